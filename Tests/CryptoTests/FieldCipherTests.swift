import Testing
@testable import Crypto

@Suite struct FieldCipherTests {
    let key = [UInt8](repeating: 7, count: 32)

    @Test func roundTripsAndRandomizes() throws {
        let cipher = try FieldCipher(key: key)
        let a = cipher.encrypt(Array("magnet:?xt=urn:btih:abc".utf8))
        let b = cipher.encrypt(Array("magnet:?xt=urn:btih:abc".utf8))
        #expect(a != b, "fresh IV per value")
        #expect(try cipher.decrypt(a) == Array("magnet:?xt=urn:btih:abc".utf8))
        #expect(Array(a.prefix(3)) == [0x4d, 0x46, 0x01])
        #expect(cipher.isCurrent(a))
    }

    @Test func deterministicModeForUniqueColumns() throws {
        let cipher = try FieldCipher(key: key)
        let ih = Array("c9e15763f722f23e98a29decdfae341b98d53056".utf8)
        #expect(cipher.encryptDeterministic(ih) == cipher.encryptDeterministic(ih))
        #expect(cipher.encryptDeterministic(ih) != cipher.encryptDeterministic(Array("d9e15763f722f23e98a29decdfae341b98d53056".utf8)))
        #expect(try cipher.decrypt(cipher.encryptDeterministic(ih)) == ih)
        let text = cipher.encryptString(String(decoding: ih, as: UTF8.self), deterministic: true)
        #expect(text.count == 100, "40 hex + 35 bytes of header, base64 (SQLite does not enforce varchar(92))")
    }

    @Test func readsTheOriginalsFormat() throws {
        let cipher = try FieldCipher(key: key)
        let iv = [UInt8](repeating: 1, count: 12)
        let (ciphertext, tag) = try AESGCM.seal(Array("legacy".utf8), key: key, iv: iv)
        #expect(try cipher.decrypt(iv + tag + ciphertext) == Array("legacy".utf8))
    }

    @Test func wrongKeyAndTamperingAreDetected() throws {
        let cipher = try FieldCipher(key: key)
        let other = try FieldCipher(key: [UInt8](repeating: 8, count: 32))
        var sealed = cipher.encrypt(Array("secret".utf8))
        #expect(throws: FieldCipher.Failure.wrongKey) { try other.decrypt(sealed) }
        sealed[sealed.count - 1] ^= 1
        #expect(throws: FieldCipher.Failure.corrupt) { try cipher.decrypt(sealed) }
        #expect(throws: FieldCipher.Failure.corrupt) { try cipher.decrypt([1, 2, 3]) }
        #expect(throws: FieldCipher.Failure.corrupt) { try cipher.decryptString("not base64 !!") }
        #expect(throws: FieldCipher.Failure.badKey) { try FieldCipher(key: [1, 2]) }
        #expect(try cipher.decryptString("") == "" && cipher.encryptString("") == "")
    }

    @Test func hkdfMatchesRFC5869Case1() {
        let ikm = [UInt8](repeating: 0x0b, count: 22)
        let salt = Encoding.fromHex("000102030405060708090a0b0c")!
        let info = Encoding.fromHex("f0f1f2f3f4f5f6f7f8f9")!
        #expect(Encoding.hex(HKDF.sha256(key: ikm, salt: salt, info: info, length: 42))
                == "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")
    }
}

@Suite struct JWTTests {
    let jwt = HS256JWT(secret: "jwt_secret_for_integration_testing_12345")
    let now = 1_800_000_000

    func claims(exp: Int? = nil) -> AccessClaims {
        AccessClaims(userId: "u", email: "a@b.co", role: "user", iat: now, exp: exp ?? now + 900)
    }

    @Test func signsAndVerifies() throws {
        let token = jwt.sign(claims())
        #expect(token.hasPrefix("eyJhbGciOiJIUzI1NiJ9."), "header {\"alg\":\"HS256\"} as the original")
        #expect(try jwt.verify(token, now: now) == claims())
        #expect(throws: JWTError.expired) { try jwt.verify(token, now: now + 900) }
        #expect(throws: JWTError.signature) { try HS256JWT(secret: "other").verify(token, now: now) }
    }

    @Test func refusesMalformedTokensAtEveryCut() {
        let token = jwt.sign(claims())
        for cut in 0..<token.count {
            let prefix = String(token.prefix(cut))
            #expect(throws: JWTError.self) { try jwt.verify(prefix, now: now) }
        }
        #expect(throws: JWTError.malformed) { try jwt.verify(token + ".", now: now) }
        #expect(throws: JWTError.malformed) { try jwt.verify(String(repeating: "a", count: 5000), now: now) }
    }

    @Test func algorithmIsPinned() {
        let payload = jwt.sign(claims()).split(separator: ".")[1]
        for header in [#"{"alg":"none"}"#, #"{"alg":"HS512"}"#, #"{"alg":"hs256"}"#, #"{"alg":"HS256","crit":["x"]}"#] {
            let token = Encoding.base64URL(Array(header.utf8)) + "." + payload + ".c2ln"
            #expect(throws: JWTError.algorithm) { try jwt.verify(token, now: now) }
        }
    }
}

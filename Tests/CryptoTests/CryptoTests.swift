import Testing
@testable import Crypto

@Suite struct DigestTests {
    @Test func knownVectors() {
        #expect(Encoding.hex(Digest.sha256(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Encoding.hex(Digest.sha1(Array("abc".utf8))) == "a9993e364706816aba3e25717850c26c9cd0d89d")
        // RFC 4231 test case 2.
        #expect(Encoding.hex(Digest.hmacSHA256(key: Array("Jefe".utf8), data: Array("what do ya want for nothing?".utf8)))
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func encodings() {
        #expect(Encoding.fromHex("00ffA0") == [0, 255, 160])
        #expect(Encoding.fromHex("0") == nil)
        #expect(Encoding.fromHex("zz") == nil)
        #expect(Encoding.base64URL([0xfb, 0xff, 0xfe]) == "-__-")
        #expect(Encoding.fromBase64("AAEC") == [0, 1, 2])
        #expect(Encoding.fromBase64("@@@@") == nil)
    }

    @Test func randomBytesDiffer() {
        #expect(SecureRandom.bytes(32) != SecureRandom.bytes(32))
        #expect(SecureRandom.bytes(0).isEmpty)
        #expect((0..<500).allSatisfy { _ in SecureRandom.index(below: 7) < 7 })
    }
}

@Suite struct PasswordHasherTests {
    let fast = PasswordHasher(memoryKiB: 1024, iterations: 1, parallelism: 1)

    @Test func hashAndVerify() {
        let hash = fast.hash("correct horse battery")
        #expect(hash.hasPrefix("$argon2id$v=19$m=1024,t=1,p=1$"))
        #expect(fast.verify("correct horse battery", against: hash))
        #expect(!fast.verify("correct horse batterY", against: hash))
        #expect(fast.hash("same") != fast.hash("same"), "salted")
    }

    @Test func productionParametersMeetOWASP() {
        let production = PasswordHasher()
        #expect(production.memoryKiB >= 19 * 1024 && production.iterations >= 2)
        #expect(PasswordHasher.decoy.hasPrefix("$argon2id$v=19$m=19456,t=2,p=1$"))
    }

    @Test func malformedHashesNeverVerify() {
        for stored in ["", "$2b$10$abcdefghijklmnopqrstuv", "$argon2id$garbage", "$argon2i$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaA"] {
            #expect(!fast.verify("x", against: stored))
        }
    }
}

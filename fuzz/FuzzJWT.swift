// libFuzzer target: HS256JWT.verify on arbitrary bytes must never crash, hang or accept a
// token it did not sign. Built by fuzz/run.sh into one module with Sources/Crypto.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJWT(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let text = String(decoding: bytes, as: UTF8.self)
    let jwt = HS256JWT(secret: "fuzz-secret")
    if let claims = try? jwt.verify(text, now: 1_800_000_000) {
        // Only tokens carrying our signature may verify.
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let expected = Encoding.base64URL(Digest.hmacSHA256(key: Array("fuzz-secret".utf8), data: Array("\(parts[0]).\(parts[1])".utf8)))
        precondition(String(parts[2]) == expected, "accepted a forged token: \(claims)")
    }
    _ = HS256JWT.base64URLDecode(Substring(text))
    if let cipher = try? FieldCipher(key: [UInt8](repeating: 1, count: 32)) {
        _ = try? cipher.decrypt(bytes)
        _ = try? cipher.decryptString(text)
    }
    return 0
}

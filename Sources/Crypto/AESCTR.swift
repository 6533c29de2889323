import COpenSSL

/// AES-256-CTR keyed by byte position, for the encrypted chunk store: the counter block of
/// byte `offset` is `be128(offset / 16)` (a zero nonce: the key is unique per torrent), so any
/// range can be encrypted or decrypted on its own and no two positions share a counter.
public enum AESCTR {
    /// `data` XOR the keystream at `offset` (encryption and decryption are the same).
    public static func apply(_ data: [UInt8], key: [UInt8], offset: Int64) -> [UInt8] {
        precondition(key.count == 32 && offset >= 0)
        guard !data.isEmpty, let context = EVP_CIPHER_CTX_new() else { return data }
        defer { EVP_CIPHER_CTX_free(context) }
        var iv = [UInt8](repeating: 0, count: 16)
        let block = UInt64(offset / 16)
        for index in 0..<8 { iv[15 - index] = UInt8((block >> (8 * UInt64(index))) & 0xff) }
        guard EVP_EncryptInit_ex(context, EVP_aes_256_ctr(), nil, key, iv) == 1 else { preconditionFailure("AES-CTR init") }
        let skip = Int(offset % 16)
        let input = [UInt8](repeating: 0, count: skip) + data
        var output = [UInt8](repeating: 0, count: input.count + 16)
        var length: Int32 = 0
        guard EVP_EncryptUpdate(context, &output, &length, input, Int32(input.count)) == 1 else { preconditionFailure("AES-CTR update") }
        return Array(output[skip..<Int(length)])
    }
}

/// Encryption of database fields and persisted secrets (AES-256-GCM under
/// `SOURCE_SECURITY_KEY`).
///
/// Format v1 (bytes): `"MF"` `0x01` · key id (4 bytes: SHA-256 of the key, truncated) · IV (12)
/// · tag (16) · ciphertext. Strings are stored as standard base64 of those bytes. The key id
/// lets `miauflix keys rotate` and error messages tell "wrong key" from "corrupt". The
/// original's format (IV · tag · ciphertext, no header) still decrypts, so a database taken
/// over from the original keeps working.
///
/// Random mode draws a fresh 96-bit IV per value. Deterministic mode (for columns that must
/// be unique, like the info-hash) derives the IV from HMAC(HKDF(key), plaintext): equal
/// plaintexts give equal ciphertexts, and nothing else repeats an IV.
public struct FieldCipher: Sendable {
    /// Why a value could not be decrypted.
    public enum Failure: Error, Equatable {
        /// The key is not 32 bytes.
        case badKey
        /// The value was encrypted under another key (its key id differs).
        case wrongKey
        /// Not a ciphertext of ours, or tampered with.
        case corrupt
    }

    static let magic: [UInt8] = [0x4d, 0x46, 0x01]
    static let headerLength = 3 + 4 + 12 + 16

    let key: [UInt8]
    let ivKey: [UInt8]
    /// The 4-byte identifier of this key.
    public let keyID: [UInt8]

    /// Creates a cipher from a 32-byte key.
    public init(key: [UInt8]) throws(Failure) {
        guard key.count == 32 else { throw .badKey }
        self.key = key
        ivKey = HKDF.sha256(key: key, info: Array("miauflix deterministic field iv".utf8), length: 32)
        keyID = Array(Digest.sha256(Array("miauflix key id".utf8) + key).prefix(4))
    }

    /// Creates a cipher from `SOURCE_SECURITY_KEY` (base64 of 32 bytes).
    public init(base64Key: String) throws(Failure) {
        guard let bytes = Encoding.fromBase64(base64Key) else { throw .badKey }
        try self.init(key: bytes)
    }

    /// Encrypts with a random IV.
    public func encrypt(_ plaintext: [UInt8]) -> [UInt8] {
        seal(plaintext, iv: SecureRandom.bytes(12))
    }

    /// Encrypts deterministically (equal inputs → equal outputs).
    public func encryptDeterministic(_ plaintext: [UInt8]) -> [UInt8] {
        seal(plaintext, iv: Array(Digest.hmacSHA256(key: ivKey, data: plaintext).prefix(12)))
    }

    private func seal(_ plaintext: [UInt8], iv: [UInt8]) -> [UInt8] {
        // AES-GCM with a valid 32-byte key and 12-byte IV cannot fail short of OpenSSL
        // breaking; trapping is safer than storing plaintext.
        let (ciphertext, tag) = try! AESGCM.seal(plaintext, key: key, iv: iv)
        return Self.magic + keyID + iv + tag + ciphertext
    }

    /// Decrypts a v1 value, or a value in the original's header-less format.
    public func decrypt(_ data: [UInt8]) throws(Failure) -> [UInt8] {
        if data.count >= Self.headerLength, Array(data.prefix(3)) == Self.magic {
            let id = Array(data[3..<7])
            let iv = Array(data[7..<19])
            let tag = Array(data[19..<35])
            if id == keyID, let plain = try? AESGCM.open(Array(data[35...]), tag: tag, key: key, iv: iv) {
                return plain
            }
            if id != keyID, (try? legacy(data)) == nil { throw .wrongKey }
        }
        return try legacy(data)
    }

    private func legacy(_ data: [UInt8]) throws(Failure) -> [UInt8] {
        guard data.count >= 28 else { throw .corrupt }
        do {
            return try AESGCM.open(Array(data[28...]), tag: Array(data[12..<28]), key: key, iv: Array(data[0..<12]))
        } catch {
            throw .corrupt
        }
    }

    /// Encrypts a string to base64 (empty stays empty, as the original).
    public func encryptString(_ text: String, deterministic: Bool = false) -> String {
        guard !text.isEmpty else { return "" }
        let bytes = Array(text.utf8)
        return Encoding.base64(deterministic ? encryptDeterministic(bytes) : encrypt(bytes))
    }

    /// Decrypts a base64 string (empty stays empty).
    public func decryptString(_ text: String) throws(Failure) -> String {
        guard !text.isEmpty else { return "" }
        guard let data = Encoding.fromBase64(text) else { throw .corrupt }
        let plain = try decrypt(data)
        guard let string = String(validating: plain, as: UTF8.self) else { throw .corrupt }
        return string
    }

    /// Whether `data` is a v1 value under this key (rotation skips values already re-encrypted).
    public func isCurrent(_ data: [UInt8]) -> Bool {
        data.count >= Self.headerLength && Array(data.prefix(3)) == Self.magic && Array(data[3..<7]) == keyID
    }
}

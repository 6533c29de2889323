import COpenSSL

/// AES-256-GCM over OpenSSL's EVP interface: 12-byte IV, 16-byte tag.
public enum AESGCM {
    /// Failure to authenticate or to run the cipher.
    public enum Failure: Error, Equatable {
        /// The tag did not verify (wrong key or tampered data).
        case authentication
        /// OpenSSL refused the operation.
        case cipher
    }

    /// Encrypts; returns (ciphertext, tag).
    public static func seal(_ plaintext: [UInt8], key: [UInt8], iv: [UInt8], aad: [UInt8] = []) throws(Failure) -> (ciphertext: [UInt8], tag: [UInt8]) {
        precondition(key.count == 32 && iv.count == 12)
        guard let context = EVP_CIPHER_CTX_new() else { throw .cipher }
        defer { EVP_CIPHER_CTX_free(context) }
        var ciphertext = [UInt8](repeating: 0, count: plaintext.count + 16)
        var tag = [UInt8](repeating: 0, count: 16)
        var length: Int32 = 0
        var total = 0
        guard EVP_EncryptInit_ex(context, EVP_aes_256_gcm(), nil, key, iv) == 1 else { throw .cipher }
        if !aad.isEmpty {
            guard EVP_EncryptUpdate(context, nil, &length, aad, Int32(aad.count)) == 1 else { throw .cipher }
        }
        if !plaintext.isEmpty {
            guard EVP_EncryptUpdate(context, &ciphertext, &length, plaintext, Int32(plaintext.count)) == 1 else { throw .cipher }
            total = Int(length)
        }
        let finalOK = ciphertext.withUnsafeMutableBufferPointer { pointer in
            EVP_EncryptFinal_ex(context, pointer.baseAddress! + total, &length)
        }
        guard finalOK == 1 else { throw .cipher }
        total += Int(length)
        guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, 16, &tag) == 1 else { throw .cipher }
        return (Array(ciphertext.prefix(total)), tag)
    }

    /// Decrypts and authenticates.
    public static func open(_ ciphertext: [UInt8], tag: [UInt8], key: [UInt8], iv: [UInt8], aad: [UInt8] = []) throws(Failure) -> [UInt8] {
        guard key.count == 32, iv.count == 12, tag.count == 16 else { throw .authentication }
        guard let context = EVP_CIPHER_CTX_new() else { throw .cipher }
        defer { EVP_CIPHER_CTX_free(context) }
        var plaintext = [UInt8](repeating: 0, count: ciphertext.count + 16)
        var length: Int32 = 0
        var total = 0
        guard EVP_DecryptInit_ex(context, EVP_aes_256_gcm(), nil, key, iv) == 1 else { throw .cipher }
        if !aad.isEmpty {
            guard EVP_DecryptUpdate(context, nil, &length, aad, Int32(aad.count)) == 1 else { throw .cipher }
        }
        if !ciphertext.isEmpty {
            guard EVP_DecryptUpdate(context, &plaintext, &length, ciphertext, Int32(ciphertext.count)) == 1 else { throw .cipher }
            total = Int(length)
        }
        var tagCopy = tag
        guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, 16, &tagCopy) == 1 else { throw .cipher }
        let finalOK = plaintext.withUnsafeMutableBufferPointer { pointer in
            EVP_DecryptFinal_ex(context, pointer.baseAddress! + total, &length)
        }
        guard finalOK == 1 else { throw .authentication }
        total += Int(length)
        return Array(plaintext.prefix(total))
    }
}

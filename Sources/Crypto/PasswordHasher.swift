import CArgon2

/// Argon2id password hashing (libargon2) in the PHC string format
/// (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`), so parameters can be raised later and old
/// hashes still verify.
///
/// Defaults are OWASP's minimum for Argon2id: 19 MiB of memory, 2 passes, 1 lane.
public struct PasswordHasher: Sendable {
    /// Memory cost in KiB.
    public var memoryKiB: UInt32
    /// Number of passes.
    public var iterations: UInt32
    /// Degree of parallelism.
    public var parallelism: UInt32

    /// The longest password accepted, in bytes (bounds the work an attacker can cause).
    public static let maximumPasswordBytes = 1024

    /// Creates a hasher; the defaults are the production parameters.
    public init(memoryKiB: UInt32 = 19 * 1024, iterations: UInt32 = 2, parallelism: UInt32 = 1) {
        self.memoryKiB = memoryKiB
        self.iterations = iterations
        self.parallelism = parallelism
    }

    /// Hashes `password` with a fresh 16-byte salt.
    public func hash(_ password: String) -> String {
        let pwd = Array(password.utf8.prefix(Self.maximumPasswordBytes))
        let salt = SecureRandom.bytes(16)
        let encodedLength = argon2_encodedlen(iterations, memoryKiB, parallelism, UInt32(salt.count), 32, Argon2_id)
        var encoded = [CChar](repeating: 0, count: encodedLength)
        let result = pwd.withUnsafeBufferPointer { p in
            salt.withUnsafeBufferPointer { s in
                argon2id_hash_encoded(iterations, memoryKiB, parallelism, p.baseAddress, p.count,
                                      s.baseAddress, s.count, 32, &encoded, encodedLength)
            }
        }
        precondition(result == ARGON2_OK.rawValue, "argon2id_hash_encoded failed: \(result)")
        return String(cString: encoded)
    }

    /// Verifies `password` against a stored PHC string in constant time (libargon2 compares
    /// with a constant-time routine). Malformed hashes verify as false.
    public func verify(_ password: String, against encoded: String) -> Bool {
        guard encoded.hasPrefix("$argon2id$") else { return false }
        let pwd = Array(password.utf8.prefix(Self.maximumPasswordBytes))
        return pwd.withUnsafeBufferPointer { p in
            argon2id_verify(encoded, p.baseAddress, p.count) == ARGON2_OK.rawValue
        }
    }

    /// A hash of a random password: verifying against it costs the same as a real one, so
    /// a login for an unknown e-mail takes the same time as a wrong password.
    public static let decoy: String = PasswordHasher().hash(Encoding.hex(SecureRandom.bytes(16)))
}

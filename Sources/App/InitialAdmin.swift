import Crypto
import Domain
import Foundation
import Persistence

/// The first admin of a new installation (contract.md): when no admin exists and setup mode
/// is off, create `admin@<hostname>.local` with a random 24-character password and print
/// exactly the two lines the original prints (scripts scrape the first).
public enum InitialAdmin {
    /// The e-mail for this host.
    public static func email(hostname: String = ProcessInfo.processInfo.hostName) -> String {
        let cleaned = hostname.split(separator: ".").first.map(String.init)?.lowercased()
            .filter { $0.isLetter || $0.isNumber || $0 == "-" } ?? ""
        return "admin@\(cleaned.isEmpty ? "miauflix" : cleaned).local"
    }

    /// Creates the admin if needed and returns the two lines to print (nil when nothing was done).
    public static func createIfNeeded(database: AppDatabase, configuration: Configuration, now: Date = Date()) throws -> [String]? {
        guard !configuration.bool("ALLOW_CREATE_ADMIN_ON_FIRST_RUN") else { return nil }
        guard try !database.adminExists() else { return nil }
        let email = email()
        let password = PasswordPolicy.generate { SecureRandom.index(below: $0) }
        let hash = PasswordHasher().hash(password)
        guard try database.createInitialAdminIfNeeded(email: email, passwordHash: hash, now: now) != nil else { return nil }
        return [
            "Created initial admin user with email: \(email) and password: \(password)",
            "Please change these credentials after first login.",
        ]
    }
}

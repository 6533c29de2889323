import Crypto
import Foundation
import Persistence

/// `miauflix keys rotate`: a new `SOURCE_SECURITY_KEY`, with every encrypted database column
/// re-encrypted in one transaction and `config.json`'s secrets rewritten.
///
/// Crash safety: the new key is first written to `DATA_DIR/secrets.env.rotating`; the
/// database transaction commits (or changes nothing); then `config.json`, then
/// `secrets.env` are replaced atomically and the `.rotating` file removed. If the command
/// dies after the commit, the `.rotating` file holds the key that now opens the data.
public enum KeyRotation {
    /// What a rotation did.
    public struct Report: Sendable {
        /// Database values re-encrypted.
        public var databaseValues: Int
        /// config.json secrets re-encrypted.
        public var configSecrets: Int
        /// The new key, when it could not be written to `secrets.env` (it came from the
        /// environment or `.env`): the admin must put it there.
        public var keyToInstall: String?
    }

    /// Rotates. `keyFromSecretsFile` tells whether the current key lives in `secrets.env`.
    public static func rotate(configuration: Configuration, database: AppDatabase, keyFromSecretsFile: Bool) throws -> Report {
        let old = try FieldCipher(base64Key: configuration.string("SOURCE_SECURITY_KEY"))
        let newKey = Encoding.base64(SecureRandom.bytes(32))
        let new = try FieldCipher(base64Key: newKey)
        let dataDirectory = configuration.dataDirectory
        let pending = dataDirectory + "/secrets.env.rotating"
        guard FileManager.default.createFile(atPath: pending, contents: Data("SOURCE_SECURITY_KEY=\(newKey)\n".utf8),
                                             attributes: [.posixPermissions: 0o600]) else {
            throw ConfigurationError(variable: "DATA_DIR", problem: "cannot write \(pending)")
        }

        let count = try database.reencryptAll { column, bytes in
            let plain = try old.decrypt(bytes)
            return column.deterministic ? new.encryptDeterministic(plain) : new.encrypt(plain)
        }

        let stored = try RuntimeConfigFile.load(dataDirectory: dataDirectory, key: configuration.string("SOURCE_SECURITY_KEY"))
        let secrets = stored.filter { ConfigCatalog.variable($0.key)?.secret == true && !$0.value.isEmpty }
        if !secrets.isEmpty {
            try RuntimeConfigFile.save(dataDirectory: dataDirectory, changes: secrets.map { ($0.key, $0.value) }, cipher: new)
        }

        var keyToInstall: String?
        if keyFromSecretsFile {
            try replaceSecret(dataDirectory: dataDirectory, name: "SOURCE_SECURITY_KEY", value: newKey)
            unlink(pending)
        } else {
            keyToInstall = newKey
        }
        return Report(databaseValues: count, configSecrets: secrets.count, keyToInstall: keyToInstall)
    }

    static func replaceSecret(dataDirectory: String, name: String, value: String) throws {
        let path = dataDirectory + "/" + ConfigurationLoader.secretsFileName
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if let index = lines.firstIndex(where: { $0.hasPrefix(name + "=") }) { lines[index] = "\(name)=\(value)" } else {
            lines.insert("\(name)=\(value)", at: max(0, lines.count - 1))
        }
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(lines.joined(separator: "\n").utf8),
                                             attributes: [.posixPermissions: 0o600]),
              rename(temporary, path) == 0 else {
            throw ConfigurationError(variable: "DATA_DIR", problem: "cannot replace \(path)")
        }
    }
}

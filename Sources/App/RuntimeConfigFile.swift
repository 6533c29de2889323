import Crypto
import Foundation

/// `DATA_DIR/config.json`: values set through `PUT /api/config`. A JSON object of strings;
/// secrets are stored as `enc:` + base64 of the field cipher's v1 format.
public enum RuntimeConfigFile {
    static let fileName = "config.json"
    static let encryptedPrefix = "enc:"

    /// The stored values, secrets decrypted. A secret that does not decrypt (another key)
    /// stops start-up with a clear error rather than running with garbage.
    public static func load(dataDirectory: String, key: String?) throws -> [String: String] {
        let path = dataDirectory + "/" + fileName
        guard let data = FileManager.default.contents(atPath: path) else { return [:] }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: String] else {
            throw ConfigurationError(variable: "DATA_DIR", problem: "\(path) is not a JSON object of strings")
        }
        var result: [String: String] = [:]
        for (name, value) in object {
            if value.hasPrefix(encryptedPrefix) {
                guard let key, let cipher = try? FieldCipher(base64Key: key),
                      let plain = try? cipher.decryptString(String(value.dropFirst(encryptedPrefix.count))) else {
                    throw ConfigurationError(variable: name, problem: "stored in \(path) but cannot be decrypted with SOURCE_SECURITY_KEY")
                }
                result[name] = plain
            } else {
                result[name] = value
            }
        }
        return result
    }

    /// Merges `changes` into the file atomically (write to a temporary file, then rename).
    public static func save(dataDirectory: String, changes: [(key: String, value: String)], cipher: FieldCipher) throws {
        let path = dataDirectory + "/" + fileName
        var object = (FileManager.default.contents(atPath: path).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: String] }) ?? [:]
        for change in changes {
            let secret = ConfigCatalog.variable(change.key)?.secret ?? false
            object[change.key] = secret && !change.value.isEmpty ? encryptedPrefix + cipher.encryptString(change.value) : change.value
        }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw ConfigurationError(variable: "DATA_DIR", problem: "cannot write \(temporary)")
        }
        guard rename(temporary, path) == 0 else { throw ConfigurationError(variable: "DATA_DIR", problem: "cannot replace \(path)") }
    }
}

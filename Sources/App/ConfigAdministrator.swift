import API
import Crypto
import Foundation

/// Implements the API's configuration port over `ConfigCatalog`, `config.json` and a
/// process reload (SIGHUP to the API supervisor, which replaces its workers gracefully).
struct ConfigAdministrator: ConfigurationAdministering {
    let configuration: Configuration
    let reloadAction: @Sendable () -> Void

    var services: [String] { ConfigCatalog.serviceOrder }

    func entries() -> [ConfigEntryDTO] {
        var result: [ConfigEntryDTO] = []
        for service in ConfigCatalog.serviceOrder {
            for variable in ConfigCatalog.variables where variable.service == service {
                let value = configuration[variable.name] ?? ""
                result.append(ConfigEntryDTO(key: variable.name, value: variable.secret ? Self.mask(value, auto: variable.auto != nil) : value,
                                             isSecret: variable.secret, serviceGroup: service, description: variable.summary,
                                             required: variable.required, hasValue: !value.isEmpty))
            }
        }
        return result
    }

    /// User-supplied secrets keep their first 4 characters (so an admin can tell which token
    /// is set); generated secrets show nothing.
    static func mask(_ value: String, auto: Bool) -> String {
        if value.isEmpty { return "" }
        if auto || value.count <= 8 { return "****" }
        return String(value.prefix(4)) + "****"
    }

    func check(_ changes: [(key: String, value: String)]) -> ConfigChangeCheck {
        let unknown = changes.map(\.key).filter { ConfigCatalog.variable($0) == nil }
        if !unknown.isEmpty { return .unknownKeys(unknown) }
        let readOnly = changes.map(\.key).filter { ConfigCatalog.readOnlyAtRuntime.contains($0) }
        if !readOnly.isEmpty { return .readOnlyKeys(readOnly) }
        var values = configuration.values
        var invalid: [String] = []
        for change in changes {
            values[change.key] = change.value
            if let variable = ConfigCatalog.variable(change.key), !change.value.isEmpty,
               ConfigValueParser.problem(change.value, kind: variable.kind) != nil {
                invalid.append(change.key)
            }
        }
        if invalid.isEmpty {
            do { _ = try Configuration(values: values) } catch { invalid.append(error.variable) }
        }
        if !invalid.isEmpty { return .invalidKeys(Array(Set(invalid)).sorted()) }
        let touched = Set(changes.compactMap { ConfigCatalog.variable($0.key)?.service })
        return .valid(restarting: ConfigCatalog.serviceOrder.filter { touched.contains($0) && $0 != "SERVER" },
                      needsProcessRestart: touched.contains("SERVER") ? ["SERVER"] : [])
    }

    func apply(_ changes: [(key: String, value: String)]) throws {
        let cipher = try FieldCipher(base64Key: configuration.string("SOURCE_SECURITY_KEY"))
        try RuntimeConfigFile.save(dataDirectory: configuration.dataDirectory, changes: changes, cipher: cipher)
    }

    func reload() { reloadAction() }
}

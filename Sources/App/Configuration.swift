import Foundation

/// A configuration error that stops start-up, naming the variable.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    /// The variable.
    public let variable: String
    /// What is wrong (never the value of a secret).
    public let problem: String

    public var description: String { "\(variable): \(problem)" }
}

/// The validated configuration of one process.
///
/// Sources, highest priority first: the process environment, `./.env`, the auto secrets
/// persisted in `DATA_DIR/secrets.env`, the defaults of `ConfigCatalog`.
public struct Configuration: Sendable {
    /// Every known variable's effective value (absent: unset with no default).
    public let values: [String: String]

    /// Creates a configuration from already-merged values, validating every known variable.
    public init(values: [String: String]) throws(ConfigurationError) {
        var effective: [String: String] = [:]
        for variable in ConfigCatalog.variables {
            let value = values[variable.name].flatMap { $0.isEmpty ? nil : $0 } ?? variable.defaultValue
            guard let value else { continue }
            if !value.isEmpty, let problem = ConfigValueParser.problem(value, kind: variable.kind) {
                throw ConfigurationError(variable: variable.name, problem: problem)
            }
            effective[variable.name] = value
        }
        if let secret = effective["REVERSE_PROXY_SECRET"], !secret.isEmpty, secret.count < 16 {
            throw ConfigurationError(variable: "REVERSE_PROXY_SECRET", problem: "must be at least 16 characters")
        }
        if let policy = effective["AUDIT_API_ACCESS"], !["all", "writes", "none"].contains(policy.lowercased()) {
            throw ConfigurationError(variable: "AUDIT_API_ACCESS", problem: "expected all, writes or none")
        }
        if let salt = effective["DOWNLOAD_SALT"], salt.count < 32 {
            throw ConfigurationError(variable: "DOWNLOAD_SALT", problem: "must be at least 32 characters")
        }
        self.values = effective
    }

    /// The raw value.
    public subscript(name: String) -> String? { values[name] }

    /// A string value ("" when unset).
    public func string(_ name: String) -> String { values[name] ?? "" }

    /// A boolean value (false when unset).
    public func bool(_ name: String) -> Bool { values[name].flatMap(ConfigValueParser.bool) ?? false }

    /// An integer value (0 when unset).
    public func int(_ name: String) -> Int { values[name].flatMap { Int($0) } ?? 0 }

    /// A duration in seconds (0 when unset).
    public func seconds(_ name: String) -> Int { values[name].flatMap(ConfigValueParser.seconds) ?? 0 }

    /// A size in bytes (0 when unset).
    public func bytes(_ name: String) -> Int { values[name].flatMap(ConfigValueParser.bytes) ?? 0 }

    /// Required variables that are unset (degraded mode), by service.
    public var missingRequired: [(service: String, variable: String)] {
        ConfigCatalog.variables.filter { $0.required && (values[$0.name] ?? "").isEmpty }.map { ($0.service, $0.name) }
    }

    // MARK: - Derived paths

    /// The absolute data directory.
    public var dataDirectory: String { string("DATA_DIR") }
    /// The SQLite database file.
    public var databasePath: String { dataDirectory + "/miauflix.sqlite" }
    /// Sockets and pid files.
    public var runDirectory: String { dataDirectory + "/run" }
    /// The FastCGI socket.
    public var apiSocket: String { string("API_SOCKET").isEmpty ? runDirectory + "/api.sock" : string("API_SOCKET") }
    /// The engine's HTTP socket.
    public var engineSocket: String { string("ENGINE_SOCKET").isEmpty ? runDirectory + "/engine.sock" : string("ENGINE_SOCKET") }
    /// The engine's wake-up datagram socket (API → engine).
    public var engineWakeSocket: String { runDirectory + "/engine.wake" }
    /// FastCGI worker processes.
    public var apiWorkers: Int {
        let configured = int("API_WORKERS")
        return configured > 0 ? configured : max(1, ProcessInfo.processInfo.activeProcessorCount)
    }
}

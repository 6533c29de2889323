import Foundation
/// The state of one service in `GET /api/status` (reference §2.2).
public enum ServiceStatus: Sendable, Equatable, Encodable {
    /// Working.
    case ready
    /// Required variables are missing.
    case needsConfiguration(missingVars: [String])
    /// Broken; the message is safe to show an admin.
    case error(message: String)
    /// Working partially.
    case degraded(reason: String)

    enum CodingKeys: String, CodingKey { case status, missingVars, errorMessage, error, reason }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .ready:
            try container.encode("ready", forKey: .status)
        case let .needsConfiguration(missing):
            try container.encode("needs_configuration", forKey: .status)
            try container.encode(missing, forKey: .missingVars)
        case let .error(message):
            try container.encode("error", forKey: .status)
            try container.encode(message, forKey: .errorMessage)
            try container.encodeNil(forKey: .error)
        case let .degraded(reason):
            try container.encode("degraded", forKey: .status)
            try container.encode(reason, forKey: .reason)
        }
    }
}

/// The body of `GET /api/status`.
public struct StatusDTO: Sendable, Encodable, Equatable {
    /// VPN state: `isVpnActive` is null when the check is disabled.
    public struct VPN: Sendable, Encodable, Equatable {
        /// Whether traffic leaves through the VPN; nil when not checked.
        public var isVpnActive: Bool?
        /// Whether the check is disabled.
        public var disabled: Bool
        /// The VPN interface watched (`VPN_INTERFACE`), when one is.
        public var interface: String?
        /// Since when the current state holds.
        public var since: Date?
        /// Why it is down (`missing`, `down`, `no-address`).
        public var reason: String?
        /// The exit address VPN_CHECK_URL saw (masked for non-admins) and whether it called it
        /// protected.
        public var exitIp: String?
        public var protected: Bool?

        enum CodingKeys: String, CodingKey { case isVpnActive, disabled, interface, since, reason, exitIp, protected }

        /// Creates the value.
        public init(isVpnActive: Bool?, disabled: Bool, interface: String? = nil, since: Date? = nil, reason: String? = nil) {
            self.isVpnActive = isVpnActive
            self.disabled = disabled
            self.interface = interface
            self.since = since
            self.reason = reason
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            if let isVpnActive { try container.encode(isVpnActive, forKey: .isVpnActive) } else { try container.encodeNil(forKey: .isVpnActive) }
            try container.encode(disabled, forKey: .disabled)
            try container.encodeIfPresent(interface, forKey: .interface)
            try container.encodeIfPresent(since, forKey: .since)
            try container.encodeIfPresent(reason, forKey: .reason)
            try container.encodeIfPresent(exitIp, forKey: .exitIp)
            try container.encodeIfPresent(protected, forKey: .protected)
        }
    }

    /// VPN state.
    public var vpn: VPN
    /// Service name (`TMDB`, `JWT`, …) → state.
    public var services: [String: ServiceStatus]

    /// Creates the value.
    public init(vpn: VPN, services: [String: ServiceStatus]) {
        self.vpn = vpn
        self.services = services
    }

    /// What non-admins see: each service's state without details (missing variables,
    /// error messages) — contract: status details are admin-only.
    var summary: StatusDTO {
        var vpn = vpn
        vpn.exitIp = vpn.exitIp.map(Self.mask)
        return StatusDTO(vpn: vpn, services: services.mapValues { status in
            switch status {
            case .ready: return .ready
            case .needsConfiguration: return .needsConfiguration(missingVars: [])
            case .error: return .error(message: "unavailable")
            case .degraded: return .degraded(reason: "degraded")
            }
        })
    }

    /// An address with its host part hidden: `203.0.x.x`, `2001:db8:x:x`.
    static func mask(_ address: String) -> String {
        if address.contains(":") { return address.split(separator: ":").prefix(2).joined(separator: ":") + ":x:x" }
        return address.split(separator: ".").prefix(2).joined(separator: ".") + ".x.x"
    }
}

/// The port through which the API learns the state of services it does not own
/// (configuration, the engine). Implemented by `App`.
public protocol StatusProviding: Sendable {
    /// The current status report.
    func status() -> StatusDTO
}

import API
import Foundation
import Persistence

/// `/api/status` from the configuration and the engine's heartbeat row.
struct ConfigStatusProvider: StatusProviding {
    let configuration: Configuration
    let database: AppDatabase
    /// A heartbeat older than this means the engine is down.
    static let heartbeatTimeout: TimeInterval = 15

    func status() -> StatusDTO {
        var services: [String: ServiceStatus] = [:]
        let missing = Dictionary(grouping: configuration.missingRequired, by: \.service)
        for service in ["TMDB", "TRAKT", "JWT", "SOURCE", "SERVER", "STORAGE"] {
            if let vars = missing[service], !vars.isEmpty {
                services[service] = .needsConfiguration(missingVars: vars.map(\.variable))
            } else {
                services[service] = .ready
            }
        }
        services["DOWNLOAD"] = engineStatus()
        let vpnDisabled = configuration.bool("DISABLE_VPN_CHECK")
        services["VPN"] = vpnDisabled ? .ready : .degraded(reason: "vpn-check-not-available")
        return StatusDTO(vpn: .init(isVpnActive: vpnDisabled ? nil : false, disabled: vpnDisabled), services: services)
    }

    private func engineStatus() -> ServiceStatus {
        guard let heartbeat = try? database.engineHeartbeat() else {
            return .error(message: "The engine has not started")
        }
        if Date().timeIntervalSince(heartbeat.heartbeatAt) > Self.heartbeatTimeout {
            return .error(message: "The engine is not running")
        }
        return .ready
    }
}

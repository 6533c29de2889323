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
        guard let interface = configuration.vpnInterface else {
            services["VPN"] = vpnDisabled ? .ready : .degraded(reason: "no VPN_INTERFACE: torrent traffic is not protected")
            return StatusDTO(vpn: .init(isVpnActive: vpnDisabled ? nil : false, disabled: vpnDisabled), services: services)
        }
        // The engine records each change of the kill switch; no record yet: not up.
        let state = (try? database.vpnState()).flatMap { $0.interface == interface ? $0 : nil }
        let up = state?.up ?? false
        if !up {
            services["VPN"] = .error(message: "VPN interface \(interface) is \(state?.reason ?? "not checked yet"): torrent traffic is stopped")
        } else if state?.protected == false {
            services["VPN"] = .degraded(reason: "the VPN check says the exit address is not protected")
        } else {
            services["VPN"] = .ready
        }
        var vpn = StatusDTO.VPN(isVpnActive: up, disabled: false, interface: interface, since: state?.since, reason: up ? nil : state?.reason ?? "unknown")
        vpn.exitIp = state?.exitIp
        vpn.protected = state?.protected
        return StatusDTO(vpn: vpn, services: services)
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

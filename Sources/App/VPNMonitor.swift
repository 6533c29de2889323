import Domain
import Foundation
import HTTPClient
import Logging
import Persistence
import TorrentEngine

extension Configuration {
    /// The VPN interface all torrent and source traffic is bound to (nil: no VPN enforced —
    /// `VPN_INTERFACE` empty or `DISABLE_VPN_CHECK=true`).
    var vpnInterface: String? {
        let name = string("VPN_INTERFACE")
        return name.isEmpty || bool("DISABLE_VPN_CHECK") ? nil : name
    }

    /// libcurl's `CURLOPT_INTERFACE` for torrent and source traffic: `if!<name>` binds to the
    /// device itself (no fallback to another route when it is down).
    var curlInterface: String? { vpnInterface.map { "if!" + $0 } }
}

/// Reads an interface's state from the kernel (`getifaddrs`): present, up and running, its
/// first IPv4 address, its index.
enum NetworkInterface {
    static func observe(_ name: String) -> InterfaceObservation {
        let index = Int32(bitPattern: if_nametoindex(name))
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return InterfaceObservation(exists: index != 0, up: false, ipv4: nil, index: index) }
        defer { freeifaddrs(list) }
        var exists = false, up = false
        var ipv4: String?
        var cursor = list
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard String(cString: entry.pointee.ifa_name) == name else { continue }
            exists = true
            let flags = entry.pointee.ifa_flags
            up = flags & UInt32(IFF_UP) != 0 && flags & UInt32(IFF_RUNNING) != 0
            if ipv4 == nil, let address = entry.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET) {
                var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
                address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { inet4 in
                    var raw = inet4.pointee.sin_addr
                    _ = inet_ntop(AF_INET, &raw, &text, socklen_t(INET_ADDRSTRLEN))
                }
                ipv4 = String(cString: text)
            }
        }
        return InterfaceObservation(exists: exists || index != 0, up: up, ipv4: ipv4, index: index)
    }
}

/// The engine's VPN watch (issue 11): polls the interface four times a second; each change
/// closes or reopens the engine's network, pauses or resumes the VPN-bound jobs, is audited
/// (`VPN_DOWN` / `VPN_UP`) and recorded for `/api/status`. Thread-safe reads of the state.
final class VPNMonitor: @unchecked Sendable {
    let interface: String
    let database: AppDatabase
    let logger: Logger
    private var vpnGuard = VPNGuard()
    private let lock = NSLock()
    private var thread: Thread?
    /// Told about every change (engine, scheduler).
    var onChange: (@Sendable (VPNGuard.Action) -> Void)?
    /// VPN_CHECK_URL through the tunnel: the exit address and whether the provider calls it
    /// protected (NordVPN insights: `{"ip": …, "protected": …}`), checked when the tunnel
    /// comes up and every `exitCheckInterval` seconds.
    var exitCheck: (@Sendable () -> (ip: String, protected: Bool?)?)?
    var exitCheckInterval: Double = 300
    private var nextExitCheck = Date.distantPast

    init(interface: String, database: AppDatabase, logger: Logger) {
        self.interface = interface
        self.database = database
        self.logger = logger
    }

    /// Whether torrent traffic may flow now.
    var allowsTraffic: Bool { lock.withLock { vpnGuard.allowsTraffic } }

    /// One observation now (also the first, synchronous one at start-up).
    @discardableResult
    func poll() -> VPNGuard.Action? {
        let observation = NetworkInterface.observe(interface)
        let now = Date()
        let action = lock.withLock { vpnGuard.observe(observation, now: now.timeIntervalSince1970) }
        guard let action else { return nil }
        let since = Date(timeIntervalSince1970: lock.withLock { vpnGuard.since })
        switch action {
        case let .wentDown(reason):
            logger.warning("vpn down", metadata: ["event": "vpn_down", "interface": "\(interface)", "reason": "\(reason)"])
            audit(.vpnDown, .critical, "VPN interface \(interface) is \(reason): torrent traffic stopped", ["reason": .string(reason)])
            try? database.recordVPNState(VPNStateRecord(interface: interface, up: false, reason: reason, address: nil, since: since))
        case let .cameUp(address, _), let .rebound(address, _):
            logger.info("vpn up", metadata: ["event": "vpn_up", "interface": "\(interface)"])
            if case .cameUp = action { audit(.vpnUp, .info, "VPN interface \(interface) is up: torrent traffic resumed", [:]) }
            try? database.recordVPNState(VPNStateRecord(interface: interface, up: true, reason: nil, address: address, since: since))
        }
        onChange?(action)
        return action
    }

    @discardableResult
    func checkExit(_ check: @Sendable () -> (ip: String, protected: Bool?)?) -> Bool {
        let result = check()
        try? database.recordVPNExit(ip: result?.ip, protected: result?.protected, checkedAt: Date())
        if let result, result.protected == false {
            logger.warning("vpn exit not protected", metadata: ["event": "vpn_exit_unprotected", "interface": "\(interface)"])
        }
        return result != nil
    }

    func audit(_ kind: AuditEvent.Kind, _ severity: AuditEvent.Severity, _ description: String, _ metadata: [String: AuditValue]) {
        var details = metadata
        details["interface"] = .string(interface)
        try? database.insertAudit([AuditEvent(kind: kind, severity: severity, description: description, userEmail: nil, ipAddress: "engine",
                                              userAgent: nil, metadata: details, createdAt: Date())])
    }

    /// Polls every 250 ms on its own thread until `stop()`.
    func start() {
        let thread = Thread { [self] in
            while !Thread.current.isCancelled {
                if case .cameUp = poll() { nextExitCheck = .distantPast }
                if let exitCheck, allowsTraffic, Date() >= nextExitCheck {
                    // A failed check is tried again after 10 s, a good one after the interval.
                    nextExitCheck = Date().addingTimeInterval(checkExit(exitCheck) ? exitCheckInterval : 10)
                }
                Thread.sleep(forTimeInterval: 0.25)
            }
        }
        thread.name = "vpn-monitor"
        self.thread = thread
        thread.start()
    }

    func stop() { thread?.cancel() }
}

extension Configuration {
    /// The exit check of `VPN_CHECK_URL`, fetched through the VPN interface (nil: off).
    func vpnExitCheck(logger: Logger) -> (@Sendable () -> (ip: String, protected: Bool?)?)? {
        let url = string("VPN_CHECK_URL")
        guard !url.isEmpty, let interface = curlInterface else { return nil }
        var policy = HTTPClientPolicy()
        policy.maxAttempts = 1
        policy.options.connectTimeout = 5
        policy.options.totalTimeout = 5
        policy.options.maxBodyBytes = 64 << 10
        policy.options.interface = interface
        let client = HTTPClient(policy: policy, logger: logger)
        return {
            guard let response = try? client.get(url, headers: ["Accept: application/json"], budget: 5), response.status == 200,
                  let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
                  let ip = object["ip"] as? String, ip.count <= 45, ip.allSatisfy({ $0.isHexDigit || $0 == "." || $0 == ":" }) else { return nil }
            return (ip, object["protected"] as? Bool)
        }
    }
}

/// What the engine sees of the VPN interface at one moment.
public struct InterfaceObservation: Sendable, Equatable {
    /// The interface exists.
    public var exists: Bool
    /// Administratively up and running.
    public var up: Bool
    /// Its first IPv4 address, if any.
    public var ipv4: String?
    /// Its index (for `SO_BINDTOIFINDEX`), 0 when missing.
    public var index: Int32

    public init(exists: Bool, up: Bool, ipv4: String?, index: Int32) {
        self.exists = exists
        self.up = up
        self.ipv4 = ipv4
        self.index = index
    }
}

/// The fail-closed kill switch's decision (issue 11): torrent and source traffic is allowed
/// only while the VPN interface exists, is up and has an address. Each observation (a poll
/// every quarter second) may change the state; the shell performs the returned action
/// (close peers, pause jobs, audit). Time is a parameter.
public struct VPNGuard: Sendable {
    public enum State: Sendable, Equatable {
        /// Nothing observed yet: nothing is allowed.
        case unknown
        case up(address: String, index: Int32, since: Double)
        case down(reason: String, since: Double)
    }

    public enum Action: Sendable, Equatable {
        case wentDown(reason: String)
        case cameUp(address: String, index: Int32)
        /// Still up, but the address or index changed: sockets must be bound anew.
        case rebound(address: String, index: Int32)
    }

    public private(set) var state: State = .unknown

    public init() {}

    /// Whether traffic may flow now.
    public var allowsTraffic: Bool { if case .up = state { return true } else { return false } }

    public mutating func observe(_ observation: InterfaceObservation, now: Double) -> Action? {
        let reason: String? = !observation.exists ? "missing" : !observation.up ? "down" : observation.ipv4 == nil ? "no-address" : nil
        if let reason {
            if case let .down(current, _) = state, current == reason { return nil }
            let wasDown: Bool
            if case .down = state { wasDown = true } else { wasDown = false }
            state = .down(reason: reason, since: wasDown ? since : now)
            return .wentDown(reason: reason)
        }
        let address = observation.ipv4!
        switch state {
        case let .up(current, index, since):
            guard current != address || index != observation.index else { return nil }
            state = .up(address: address, index: observation.index, since: since)
            return .rebound(address: address, index: observation.index)
        case .unknown, .down:
            state = .up(address: address, index: observation.index, since: now)
            return .cameUp(address: address, index: observation.index)
        }
    }

    /// When the current state began (nil before the first observation).
    public var since: Double {
        switch state {
        case .unknown: return 0
        case let .up(_, _, since), let .down(_, since): return since
        }
    }
}

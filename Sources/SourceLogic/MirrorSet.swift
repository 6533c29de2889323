/// Failover across a directory's mirrors with a circuit breaker per mirror: a mirror that
/// fails is skipped for a cool-down that doubles with each consecutive failure (capped); when
/// it elapses the mirror is tried again once (half-open) — success closes it, failure reopens
/// it. Mirrors are never dropped for good. Value type; time in seconds.
public struct MirrorSet: Sendable, Equatable {
    public struct Mirror: Sendable, Equatable {
        public var base: String
        public var failures = 0
        public var openUntil: Double?
    }

    public private(set) var mirrors: [Mirror]
    public var baseCooldown: Double
    public var maximumCooldown: Double

    public init(bases: [String], baseCooldown: Double = 30, maximumCooldown: Double = 3600) {
        var seen = Set<String>()
        mirrors = bases.filter { seen.insert($0).inserted }.map { Mirror(base: $0) }
        self.baseCooldown = baseCooldown
        self.maximumCooldown = maximumCooldown
    }

    /// Bases to try now, in order: closed mirrors in configured order, then mirrors whose
    /// cool-down has elapsed (half-open probes). Open mirrors still cooling are left out,
    /// unless every mirror is open (then the one that reopens soonest is tried).
    public func order(now: Double) -> [String] {
        let closed = mirrors.filter { $0.openUntil == nil }
        let probing = mirrors.filter { ($0.openUntil ?? .infinity) <= now }
        let usable = closed + probing
        if !usable.isEmpty { return usable.map(\.base) }
        return mirrors.min { ($0.openUntil ?? 0) < ($1.openUntil ?? 0) }.map { [$0.base] } ?? []
    }

    public mutating func succeeded(_ base: String) {
        guard let index = mirrors.firstIndex(where: { $0.base == base }) else { return }
        mirrors[index].failures = 0
        mirrors[index].openUntil = nil
    }

    public mutating func failed(_ base: String, now: Double) {
        guard let index = mirrors.firstIndex(where: { $0.base == base }) else { return }
        mirrors[index].failures += 1
        let cooldown = min(maximumCooldown, baseCooldown * Double(1 << min(20, mirrors[index].failures - 1)))
        mirrors[index].openUntil = now + cooldown
    }

    /// Adds mirrors found by discovery (status page), after the configured ones.
    public mutating func discovered(_ bases: [String]) {
        for base in bases where !mirrors.contains(where: { $0.base == base }) { mirrors.append(Mirror(base: base)) }
    }
}

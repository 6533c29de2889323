import BitTorrentProtocol
import Foundation
import NIOCore

/// A torrent's trackers, one list per tier (BEP 12: the first tracker of a tier that answers
/// wins and moves to the front). Announces run on the thread pool (they block); results come
/// back on the engine's loop. Loop-confined.
final class Announcer: @unchecked Sendable {
    private(set) var tiers: [[String]]
    private(set) var nextAnnounce: Double = 0
    private(set) var announcing = false
    private(set) var lastError: String?
    unowned let engine: Engine

    init(trackers tiers: [[String]], engine: Engine) {
        var usable = tiers.map { $0.filter(Self.isTrackerURL) }.filter { !$0.isEmpty }
        let statics = engine.settings.staticTrackers.filter { url in Self.isTrackerURL(url) && !usable.joined().contains(url) }
        if !statics.isEmpty { usable.append(statics) }
        self.tiers = usable
        self.engine = engine
    }

    static func isTrackerURL(_ url: String) -> Bool {
        url.hasPrefix("http://") || url.hasPrefix("https://") || url.hasPrefix("udp://")
    }

    var isEmpty: Bool { tiers.isEmpty }

    func isDue(now: Double) -> Bool { !announcing && !tiers.isEmpty && now >= nextAnnounce }

    /// Announces to every tier; `completion` gets the peers found (on the loop). With few
    /// connected peers the next announce comes sooner (a fresh swarm fills up over minutes).
    func announce(_ request: AnnounceRequest, fewPeers: Bool, completion: @escaping @Sendable ([String]) -> Void) {
        guard !tiers.isEmpty, !announcing else { return }
        announcing = true
        let tiers = tiers
        let tracker = engine.tracker
        engine.threadPool.runIfActive(eventLoop: engine.loop) { () -> [(tier: Int, url: String?, response: AnnounceResponse?, error: String?)] in
            tiers.enumerated().map { tier, urls in
                var last = "no tracker answered"
                for url in urls {
                    do { return (tier, url, try tracker.announce(url: url, request: request), nil) } catch { last = "\(error)" }
                }
                return (tier, nil, nil, last)
            }
        }.whenComplete { [self] outcome in
            announcing = false
            var interval = 1800.0
            var peers: [String] = []
            for entry in (try? outcome.get()) ?? [] {
                if let response = entry.response {
                    if let url = entry.url, let position = self.tiers[entry.tier].firstIndex(of: url), position > 0 {
                        self.tiers[entry.tier].remove(at: position)
                        self.tiers[entry.tier].insert(url, at: 0)
                    }
                    interval = min(interval, Double(response.interval))
                    peers += response.peers
                    lastError = nil
                } else {
                    lastError = entry.error
                }
            }
            if fewPeers { interval = min(interval, 30) }
            nextAnnounce = engine.now() + max(15, interval)
            completion(peers)
        }
    }

    /// `stopped` to each tier's current tracker, bounded by the tracker timeouts.
    func stop(_ request: AnnounceRequest) -> EventLoopFuture<Void> {
        let urls = tiers.compactMap(\.first)
        guard !urls.isEmpty else { return engine.loop.makeSucceededVoidFuture() }
        return engine.threadPool.runIfActive(eventLoop: engine.loop) { [tracker = engine.tracker] in
            for url in urls { _ = try? tracker.announce(url: url, request: request) }
        }.recover { _ in }
    }
}

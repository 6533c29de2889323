import Foundation
import HTTPClient
import Logging
import SourceLogic

/// TheRARBG (reference §3.3): `imdb-detail/<tt>/?format=json`; each post becomes a source
/// through the release-name parser. A redirect to `/` means "unknown title" (no sources).
/// Mirrors fail over like YTS's (per-mirror circuit breaker). Rate limits: 2/s background,
/// 4/s on demand.
public final class TheRARBGClient: ContentDirectory, @unchecked Sendable {
    public let name = "TheRARBG"
    let http: HTTPClient
    let logger: Logger
    let gate: RateGate
    let clock: @Sendable () -> Double
    let perMirrorBudget: Double
    private var mirrors: MirrorSet
    private let lock = NSLock()

    public init(primary: String, mirrors: [String], http: HTTPClient, logger: Logger, perMirrorBudget: Double = 4,
                gate: RateGate = RateGate(backgroundPerMinute: 120, onDemandPerSecond: 4),
                clock: @escaping @Sendable () -> Double = { ProcessInfo.processInfo.systemUptime }) {
        self.mirrors = MirrorSet(bases: ([primary] + mirrors).map(YTSClient.trimmed).filter { !$0.isEmpty })
        self.http = http
        self.logger = logger
        self.gate = gate
        self.clock = clock
        self.perMirrorBudget = perMirrorBudget
    }

    public func movie(imdbId: String, onDemand: Bool) throws(DirectoryError) -> DirectoryResult {
        try posts(imdbId: imdbId, onDemand: onDemand, episodes: false)
    }

    /// Episode sources of a show (single episodes and season packs), by the show's IMDb id.
    public func show(imdbId: String, onDemand: Bool) throws(DirectoryError) -> DirectoryResult {
        try posts(imdbId: imdbId, onDemand: onDemand, episodes: true)
    }

    func posts(imdbId: String, onDemand: Bool, episodes: Bool) throws(DirectoryError) -> DirectoryResult {
        guard imdbId.range(of: #"^tt\d{7,8}$"#, options: .regularExpression) != nil else { return DirectoryResult(sources: []) }
        let wait = gate.reserve(onDemand: onDemand, now: clock())
        if wait > 0 {
            if onDemand && wait > 1 { throw .rateLimited }
            Thread.sleep(forTimeInterval: wait)
        }
        var last = "no mirror"
        for base in lock.withLock({ mirrors.order(now: clock()) }) {
            let response: HTTPResponse
            do { response = try http.get("\(base)/imdb-detail/\(imdbId)/?format=json", budget: perMirrorBudget) } catch {
                last = "\(error)"
                lock.withLock { mirrors.failed(base, now: clock()) }
                logger.warning("therarbg mirror failed", metadata: ["event": "directory_mirror_failed", "directory": "TheRARBG",
                                                                     "mirror": "\(URL(string: base)?.host ?? "?")", "reason": "\(error)"])
                continue
            }
            // Unknown title: the site redirects to its home page.
            if (300..<400).contains(response.status) || response.status == 404 {
                lock.withLock { mirrors.succeeded(base) }
                return DirectoryResult(sources: [])
            }
            let type = response.headers.first { $0.name == "content-type" }?.value ?? ""
            guard (200..<300).contains(response.status), !type.contains("text/html"),
                  let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] else {
                last = "HTTP \(response.status) \(type.isEmpty ? "" : type)"
                lock.withLock { mirrors.failed(base, now: clock()) }
                logger.warning("therarbg mirror failed", metadata: ["event": "directory_mirror_failed", "directory": "TheRARBG",
                                                                     "mirror": "\(URL(string: base)?.host ?? "?")", "reason": "\(last)"])
                continue
            }
            lock.withLock { mirrors.succeeded(base) }
            return Self.parse(object, episodes: episodes)
        }
        throw .unavailable(last)
    }

    static func parse(_ object: [String: Any], episodes: Bool) -> DirectoryResult {
        var sources: [DirectorySource] = []
        for post in (object["trb_posts"] as? [[String: Any]]) ?? [] {
            guard let hash = (post["info_hash"] as? String)?.lowercased(), hash.count == 40, hash.allSatisfy({ $0.isHexDigit }),
                  let name = post["name"] as? String, !name.isEmpty else { continue }
            var info = ReleaseNameParser.parse(name)
            let season = (post["season"] as? Int).flatMap { $0 > 0 ? $0 : nil }
            let episode = (post["episode"] as? Int).flatMap { $0 > 0 ? $0 : nil }
            if info.season == nil { info.season = season }
            if info.episode == nil { info.episode = episode }
            let isEpisode = info.season != nil
            guard isEpisode == episodes else { continue }
            let trackers = ((post["trackers"] as? [Any]) ?? []).compactMap { entry -> String? in
                if let url = entry as? String { return url }
                if let dict = entry as? [String: Any], dict["error"] == nil || dict["error"] is NSNull { return dict["url"] as? String ?? dict["tracker"] as? String }
                return nil
            }
            // `added` is often 0 in real answers; `timestamp` (ISO 8601) is the upload time then.
            var uploaded = (post["added"] as? NSNumber).flatMap { $0.doubleValue > 0 ? Date(timeIntervalSince1970: $0.doubleValue) : nil }
            if uploaded == nil, let stamp = post["timestamp"] as? String {
                let formatter = ISO8601DateFormatter()
                formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
                uploaded = formatter.date(from: stamp) ?? ISO8601DateFormatter().date(from: stamp)
            }
            sources.append(DirectorySource(infoHash: hash, name: String(name.prefix(300)), provider: "TheRARBG", trackers: trackers, info: info,
                                           size: (post["size"] as? NSNumber)?.int64Value ?? 0,
                                           seeders: post["seeders"] as? Int, leechers: post["leechers"] as? Int, uploadedAt: uploaded))
        }
        return DirectoryResult(sources: sources)
    }
}

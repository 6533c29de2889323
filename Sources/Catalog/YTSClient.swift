import Foundation
import HTTPClient
import Logging
import SourceLogic

/// YTS (reference §3.2): `list_movies.json?query_term=<imdb>` on `YTS_API_URL` and its
/// mirrors. Each mirror gets 2 s; a timeout, a 5xx, an HTML page or malformed JSON moves to
/// the next mirror and opens that mirror's circuit (retried later, never dropped). Mirrors
/// can be discovered from a status page (yifystatus.com shape). Rate limits: 20/min in the
/// background, 2/s on demand.
public final class YTSClient: ContentDirectory, @unchecked Sendable {
    public let name = "YTS"
    let http: HTTPClient
    let logger: Logger
    let statusPage: String?
    let gate: RateGate
    let clock: @Sendable () -> Double
    let perMirrorBudget: Double
    private var mirrors: MirrorSet
    private var discoveredAt: Double?
    private let lock = NSLock()

    public init(primary: String, mirrors: [String], statusPage: String?, http: HTTPClient, logger: Logger,
                perMirrorBudget: Double = 2, gate: RateGate = RateGate(backgroundPerMinute: 20, onDemandPerSecond: 2),
                clock: @escaping @Sendable () -> Double = { ProcessInfo.processInfo.systemUptime }) {
        self.mirrors = MirrorSet(bases: ([primary] + mirrors).map(Self.trimmed).filter { !$0.isEmpty })
        self.statusPage = statusPage.flatMap { $0.isEmpty ? nil : $0 }
        self.http = http
        self.logger = logger
        self.gate = gate
        self.clock = clock
        self.perMirrorBudget = perMirrorBudget
    }

    static func trimmed(_ base: String) -> String { base.hasSuffix("/") ? String(base.dropLast()) : base }

    /// The mirrors in the order they would be tried now (for status views and tests).
    public var mirrorOrder: [String] { lock.withLock { mirrors.order(now: clock()) } }

    public func movie(imdbId: String, onDemand: Bool) throws(DirectoryError) -> DirectoryResult {
        guard imdbId.range(of: #"^tt\d{7,8}$"#, options: .regularExpression) != nil else { return DirectoryResult(sources: []) }
        discoverIfDue()
        let wait = gate.reserve(onDemand: onDemand, now: clock())
        if wait > 0 {
            if onDemand && wait > 1 { throw .rateLimited }
            Thread.sleep(forTimeInterval: wait)
        }
        let path = "/api/v2/list_movies.json?query_term=\(imdbId)&page=1&limit=20"
        var last = "no mirror"
        for base in lock.withLock({ mirrors.order(now: clock()) }) {
            do {
                let body = try fetchJSON(base + path)
                lock.withLock { mirrors.succeeded(base) }
                return try Self.parse(body, imdbId: imdbId)
            } catch let error as MirrorFailure {
                last = error.reason
                lock.withLock { mirrors.failed(base, now: clock()) }
                logger.warning("yts mirror failed", metadata: ["event": "directory_mirror_failed", "directory": "YTS",
                                                                "mirror": "\(URL(string: base)?.host ?? "?")", "reason": "\(error.reason)"])
            } catch {
                last = "\(error)"
            }
        }
        throw .unavailable(last)
    }

    struct MirrorFailure: Error { var reason: String }

    func fetchJSON(_ url: String) throws -> [String: Any] {
        let response: HTTPResponse
        do { response = try http.get(url, budget: perMirrorBudget) } catch { throw MirrorFailure(reason: "\(error)") }
        guard (200..<300).contains(response.status) else { throw MirrorFailure(reason: "HTTP \(response.status)") }
        let type = response.headers.first { $0.name == "content-type" }?.value ?? ""
        guard !type.contains("text/html") else { throw MirrorFailure(reason: "html") }
        guard let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
              object["status"] as? String == "ok" else { throw MirrorFailure(reason: "malformed") }
        return object
    }

    /// The first movie's torrents as sources (only a movie whose IMDb id matches).
    static func parse(_ object: [String: Any], imdbId: String) throws(DirectoryError) -> DirectoryResult {
        guard let data = object["data"] as? [String: Any] else { return DirectoryResult(sources: []) }
        let movies = (data["movies"] as? [[String: Any]]) ?? []
        guard let movie = movies.first(where: { ($0["imdb_code"] as? String) == imdbId }) ?? movies.first else { return DirectoryResult(sources: []) }
        let runtime = (movie["runtime"] as? Int) ?? 0
        let title = (movie["title_long"] as? String) ?? (movie["title"] as? String) ?? imdbId
        var sources: [DirectorySource] = []
        for torrent in (movie["torrents"] as? [[String: Any]]) ?? [] {
            guard let hash = (torrent["hash"] as? String)?.lowercased(), hash.count == 40,
                  hash.allSatisfy({ $0.isHexDigit }) else { continue }
            let size = (torrent["size_bytes"] as? NSNumber)?.int64Value ?? 0
            var info = ReleaseInfo()
            let quality = ((torrent["quality"] as? String) ?? "").lowercased()
            let codec = ((torrent["video_codec"] as? String) ?? "").lowercased()
            let tenBit = "\(torrent["bit_depth"] ?? "")" == "10"
            switch codec {
            case "x264", "h.264", "h264": info.videoCodec = tenBit ? .x264_10bit : .x264
            case "x265", "h.265", "h265", "hevc": info.videoCodec = tenBit ? .x265_10bit : .x265
            case "av1": info.videoCodec = tenBit ? .av1_10bit : .av1
            case "xvid": info.videoCodec = .xvid
            case "vp9": info.videoCodec = .vp9
            default: info.videoCodec = nil
            }
            switch quality {
            case "3d": info.quality = .fhd; info.is3D = true
            case "2160p", "4k": info.quality = .uhd
            case "1440p", "2k": info.quality = .qhd
            case "1080p": info.quality = .fhd
            case "720p": info.quality = .hd
            case "480p": info.quality = .sd
            default: info.quality = ReleaseNameParser.estimateQuality(size: size, runtimeMinutes: runtime, codec: info.videoCodec)
            }
            switch ((torrent["type"] as? String) ?? "").lowercased() {
            case let type where type.hasPrefix("bluray") || type.hasPrefix("bd"): info.releaseType = .bluray
            case let type where type.hasPrefix("web"): info.releaseType = .web
            case let type where type.hasPrefix("dvd") || type.hasPrefix("scr"): info.releaseType = .dvd
            case "tv", "hdtv", "pdtv", "sdtv": info.releaseType = .hdtv
            case "cam", "ts", "telesync", "telecine": info.releaseType = .cam
            default: break
            }
            let name = "\(title) [\(quality)] [\(codec)] [YTS]"
            sources.append(DirectorySource(
                infoHash: hash, name: name, provider: "YTS", torrentURL: torrent["url"] as? String, info: info, size: size,
                seeders: torrent["seeds"] as? Int, leechers: torrent["peers"] as? Int,
                uploadedAt: (torrent["date_uploaded_unix"] as? NSNumber).map { Date(timeIntervalSince1970: $0.doubleValue) }))
        }
        return DirectoryResult(sources: sources, trailer: (movie["yt_trailer_code"] as? String).flatMap { $0.isEmpty ? nil : $0 })
    }

    /// Mirror discovery, at most hourly: the hosts linked from the status page's section whose
    /// heading says "official" join the mirror list (after the configured ones).
    func discoverIfDue() {
        guard let statusPage else { return }
        let now = clock()
        let due = lock.withLock { () -> Bool in
            guard discoveredAt.map({ now - $0 > 3600 }) ?? true else { return false }
            discoveredAt = now
            return true
        }
        guard due, let response = try? http.get(statusPage, budget: perMirrorBudget), response.status == 200 else { return }
        let found = Self.officialMirrors(html: String(decoding: response.body.prefix(1 << 20), as: UTF8.self))
        if !found.isEmpty {
            lock.withLock { mirrors.discovered(found) }
            logger.info("yts mirrors discovered", metadata: ["event": "directory_mirrors", "directory": "YTS", "count": "\(found.count)"])
        }
    }

    /// Links (scheme + host) in the section whose `<h2>` mentions "official".
    static func officialMirrors(html: String) -> [String] {
        let lower = html.lowercased()
        guard let heading = lower.range(of: #"<h2[^>]*>[^<]*official"#, options: .regularExpression) else { return [] }
        let sectionStart = lower.range(of: "<section", options: .backwards, range: lower.startIndex..<heading.lowerBound)?.lowerBound ?? heading.lowerBound
        let sectionEnd = lower.range(of: "</section>", range: heading.upperBound..<lower.endIndex)?.lowerBound ?? lower.endIndex
        let section = String(html[sectionStart..<sectionEnd])
        var seen = Set<String>()
        var bases: [String] = []
        // The whole link (scheme, host, port and any path prefix), without query or trailing slash.
        let regex = try! NSRegularExpression(pattern: #"href\s*=\s*["'](https?://[^"'?#\s]+)"#, options: .caseInsensitive)
        for match in regex.matches(in: section, range: NSRange(section.startIndex..., in: section)) {
            guard let range = Range(match.range(at: 1), in: section) else { continue }
            var base = String(section[range])
            while base.hasSuffix("/") { base.removeLast() }
            if seen.insert(base.lowercased()).inserted { bases.append(base) }
        }
        return bases
    }
}

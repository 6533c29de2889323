import BitTorrentCore
import Crypto
import SharedMemory
import Scheduler
import SourceLogic
import HTTPClient
import API
import Foundation
import Logging
import NIOCore
import NIOPosix
import Persistence
import StreamServer
import TorrentEngine
import WebCore

/// Opens the torrent of a stored source: its .torrent bytes (decrypted), the saved
/// verified-pieces bitfield (fast resume).
struct SourceTorrents: Sendable {
    let database: AppDatabase
    let cipher: FieldCipher?
    let engine: Engine

    enum Failure: Error {
        case unknownSource
        case noMetadata
        case corrupt
        case timeout
        /// A season pack without a file for the episode asked for.
        case episodeNotInSource
        /// The VPN is down and the torrent needs peers.
        case vpnDown
    }

    enum Loaded {
        case torrent(Metainfo, resume: [UInt8]?)
        case magnet(Magnet)
    }

    /// Blocking (database and decryption): call on the thread pool.
    func load(sourceId: Int) throws -> Loaded {
        guard let row = try database.sourceTorrent(id: sourceId) else { throw Failure.unknownSource }
        guard let cipher else { throw Failure.noMetadata }
        guard let encrypted = row.encryptedFile else {
            guard let text = try? cipher.decryptString(row.encryptedMagnet), let magnet = try? Magnet.parse(text) else { throw Failure.corrupt }
            return .magnet(magnet)
        }
        guard let bytes = try? cipher.decrypt(Array(encrypted)),
              let metainfo = try? Metainfo.parse(bytes, sha1: Digest.sha1) else { throw Failure.corrupt }
        return .torrent(metainfo, resume: try database.storageProgress(sourceId: sourceId)?.verifiedPieces)
    }

    /// The running torrent of a source, or opens it (.torrent from the database, or
    /// metadata from peers for a magnet, which is then stored encrypted).
    func open(sourceId: Int, pool: NIOThreadPool, prefetchOnly: Bool = false) -> EventLoopFuture<Torrent> {
        let (database, cipher) = (database, cipher)
        return engine.openedTorrent(sourceId: sourceId).flatMap { existing in
            if let existing {
                if !prefetchOnly { existing.downloadEverything() }
                return engine.loop.makeSucceededFuture(existing)
            }
            return pool.runIfActive(eventLoop: engine.loop) { try load(sourceId: sourceId) }.flatMap { loaded in
                switch loaded {
                case let .torrent(metainfo, resume):
                    return engine.openTorrent(sourceId: sourceId, metainfo: metainfo, resume: resume, prefetchOnly: prefetchOnly)
                case let .magnet(magnet):
                    return engine.openMagnet(sourceId: sourceId, magnet: magnet, timeout: 300) { bytes in
                        guard let cipher else { return }
                        try? database.storeSourceTorrent(id: sourceId, encryptedFile: Data(cipher.encrypt(bytes)), now: Date())
                    }
                }
            }
        }
    }
}

/// Fast resume into the `storage` table.
struct DatabaseProgressSink: TorrentProgressSink {
    let database: AppDatabase
    let logger: Logger

    func saveProgress(sourceId: Int, verifiedPieces: [UInt8], size: Int64, downloaded: Int64, location: String) {
        do {
            try database.saveStorageProgress(StorageProgress(sourceId: sourceId, verifiedPieces: verifiedPieces, size: size,
                                                             downloaded: downloaded, location: location, lastAccessAt: nil), now: Date())
        } catch {
            logger.error("progress not saved", metadata: ["event": "storage_progress_failed", "source": "\(sourceId)", "error": "\(error)"])
        }
    }
}

/// A torrent reader as the stream server's body.
struct TorrentReaderBody: StreamBody {
    let reader: TorrentReader

    func read(at offset: Int64, maxLength: Int) -> EventLoopFuture<ByteBuffer> { reader.read(at: offset, maxLength: maxLength) }
    func close() { reader.close() }
}

/// `GET|HEAD /api/stream/:key`: the streaming key (HMAC-looked-up, unexpired) names a
/// source; its torrent is opened (or already running), the largest file is served with
/// RFC 9110 single ranges, the reference's headers and CORS, bytes flowing as pieces verify.
struct StreamRoutes: StreamResolver {
    let database: AppDatabase
    let torrents: SourceTorrents
    let pool: NIOThreadPool
    let jobs: JobLedger
    let keySecret: String
    let startTimeout: Double
    let logger: Logger
    /// The VPN kill switch: false while the VPN is down (nil: no VPN watched).
    var networkAllowed: (@Sendable () -> Bool)?

    static let prefix = "/api/stream/"
    static let corsHeaders = [("Access-Control-Allow-Origin", "*"), ("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS"),
                              ("Access-Control-Allow-Headers", "Range"),
                              ("Access-Control-Expose-Headers", "Content-Length, Content-Range, Accept-Ranges")]

    func resolve(_ request: Request, on loop: any EventLoop) -> EventLoopFuture<StreamReply>? {
        if request.path == "/internal/torrents" && request.method == "GET" {
            // Unix socket only (nginx forwards nothing outside /api/stream/): the admin view.
            return torrents.engine.snapshots().hop(to: loop).map { StreamReply(.json($0)) }
        }
        if request.path == "/internal/metrics" && request.method == "GET" {
            let jobs = jobs
            let engine = torrents.engine
            return engine.snapshots().and(engine.discoverySnapshot()).hop(to: loop).map { torrents, dht in
                var reply = StreamReply(Response(status: 200, body: Array(Metrics.render(jobs: jobs.snapshot(), torrents: torrents, dht: dht).utf8)))
                reply.headers = [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")]
                return reply
            }
        }
        if request.path == "/internal/jobs" && request.method == "GET" {
            return loop.makeSucceededFuture(StreamReply(.json(jobs.snapshot().map(JobDTO.init))))
        }
        guard request.path.hasPrefix(Self.prefix), request.path != "/api/stream/health" else { return nil }
        @Sendable func answer(_ response: Response) -> EventLoopFuture<StreamReply> {
            var response = response
            for (name, value) in Self.corsHeaders { response.headers.add(name, value) }
            return loop.makeSucceededFuture(StreamReply(response))
        }
        if request.method == "OPTIONS" { return answer(.empty(status: 204)) }
        guard request.method == "GET" || request.method == "HEAD" else {
            return answer(APIError.handler(status: 405, message: "Method not allowed").response)
        }
        let key = String(request.path.dropFirst(Self.prefix.count)).replacingOccurrences(of: "%3A", with: ":").replacingOccurrences(of: "%3a", with: ":")
        guard !key.contains("/") else { return answer(APIError.notFound.response) }
        guard key.count >= 10, key.count <= 200 else { return answer(APIError.handler(status: 400, message: "Invalid key format").response) }
        let parts = key.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            return answer(APIError.handler(status: 401, message: "Invalid or expired streaming key").response)
        }
        let hash = Encoding.hex(Digest.hmacSHA256(key: Array(keySecret.utf8), data: Array(key.utf8)))
        let database = database
        let lookup = pool.runIfActive(eventLoop: loop) { () -> StreamingGrant? in
            guard let grant = try database.streamingKey(hash: hash, now: Date()) else { return nil }
            if let source = grant.sourceId { try? database.touchStorage(sourceId: source, now: Date()) }
            return grant
        }
        return lookup.flatMap { grant -> EventLoopFuture<StreamReply> in
            guard let grant else { return answer(APIError.handler(status: 401, message: "Invalid or expired streaming key").response) }
            guard let sourceId = grant.sourceId else { return answer(APIError.handler(status: 404, message: "No suitable quality source available").response) }
            // Metadata from peers may take long (or never come): the stream answers 504 at
            // STREAM_START_TIMEOUT while the fetch goes on for the next attempt.
            let opened = loop.makePromise(of: Torrent.self)
            let settled = NIOLoopBoundBox(false, eventLoop: loop)
            let timer = loop.scheduleTask(in: .milliseconds(Int64(startTimeout * 1000))) {
                guard !settled.value else { return }
                settled.value = true
                opened.fail(SourceTorrents.Failure.timeout)
            }
            torrents.open(sourceId: sourceId, pool: pool).hop(to: loop).whenComplete { result in
                timer.cancel()
                guard !settled.value else { return }
                settled.value = true
                opened.completeWith(result)
            }
            let networkAllowed = networkAllowed
            return opened.futureResult
                .flatMap { torrent -> EventLoopFuture<Torrent> in
                    // Bytes already on disk still play; anything that needs peers waits for the VPN.
                    guard let networkAllowed, !networkAllowed() else { return loop.makeSucceededFuture(torrent) }
                    return torrent.completion().hop(to: loop).flatMapThrowing { complete in
                        guard complete else { throw SourceTorrents.Failure.vpnDown }
                        return torrent
                    }
                }
                .flatMap { torrent in
                    // An episode key: its file inside a season pack (the largest file otherwise).
                    guard let wanted = grant.episode else { return torrent.openReader() }
                    let files = torrent.metainfo.files.map { (path: $0.path, length: $0.length) }
                    guard let index = EpisodeFile.pick(files: files, season: wanted.season, episode: wanted.episode) else {
                        return loop.makeFailedFuture(SourceTorrents.Failure.episodeNotInSource)
                    }
                    return torrent.openReader(fileIndex: index)
                }
                .hop(to: loop)
                .map { reader in reply(request, reader: reader) }
                .flatMapError { error in
                    logger.warning("stream unavailable", metadata: ["event": "stream_unavailable", "source": "\(sourceId)", "error": "\(error)"])
                    if case SourceTorrents.Failure.timeout = error {
                        return answer(APIError.handler(status: 504, message: "Stream loading timeout").response)
                    }
                    if case SourceTorrents.Failure.vpnDown = error {
                        var response = APIError.handler(status: 503, message: "The VPN is down: streaming resumes when it is back").response
                        response.headers.add("Retry-After", "5")
                        return answer(response)
                    }
                    if case SourceTorrents.Failure.episodeNotInSource = error {
                        return answer(APIError.handler(status: 404, message: "This source does not hold the episode").response)
                    }
                    return answer(APIError.handler(status: 503, message: "Stream source unavailable").response)
                }
        }.flatMapError { _ in answer(APIError.internalError.response) }
    }

    func reply(_ request: Request, reader: TorrentReader) -> StreamReply {
        let total = reader.length
        let name = reader.fileName
        let etag = "\"\(reader.torrent.metainfo.infoHash.hex.prefix(16))-\(reader.fileIndex)\""
        var headers: [(String, String)] = [
            ("Content-Type", Self.contentType(of: name)), ("Accept-Ranges", "bytes"), ("ETag", etag),
            ("Cache-Control", "no-cache, no-store, must-revalidate, max-age=0"), ("Expires", "0"),
            ("Content-Disposition", "inline; filename*=UTF-8''" + Self.rfc5987(name)),
            ("transferMode.dlna.org", "Streaming"),
            ("contentFeatures.dlna.org", "DLNA.ORG_OP=01;DLNA.ORG_CI=0;DLNA.ORG_FLAGS=01700000000000000000000000000000"),
        ] + Self.corsHeaders
        // If-Range: a range is honoured only for the same representation (our ETag).
        var rangeHeader = request.headers["Range"]
        if let condition = request.headers["If-Range"], condition != etag { rangeHeader = nil }
        switch ByteRange.parse(rangeHeader, total: total) {
        case .unsatisfiable:
            reader.close()
            var response = APIError.handler(status: 416, message: "Range not satisfiable").response
            response.headers.add("Content-Range", "bytes */\(total)")
            for (name, value) in headers where name.hasPrefix("Access-Control") || name == "Accept-Ranges" { response.headers.add(name, value) }
            return StreamReply(response)
        case let .partial(range):
            headers.append(("Content-Range", range.contentRange(total: total)))
            return StreamReply(status: 206, headers: headers, body: TorrentReaderBody(reader: reader), start: range.start,
                               length: range.length, startTimeout: startTimeout)
        case .whole:
            return StreamReply(status: 200, headers: headers, body: TorrentReaderBody(reader: reader), start: 0, length: total,
                               startTimeout: startTimeout)
        }
    }

    static func contentType(of name: String) -> String {
        switch (name as NSString).pathExtension.lowercased() {
        case "mkv": return "video/x-matroska"
        case "avi": return "video/x-msvideo"
        case "mov": return "video/quicktime"
        case "wmv": return "video/x-ms-wmv"
        case "flv": return "video/x-flv"
        case "webm": return "video/webm"
        case "m4v": return "video/x-m4v"
        default: return "video/mp4"
        }
    }

    static func rfc5987(_ text: String) -> String {
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$&+-.^_`|~".utf8)
        return text.utf8.map { allowed.contains($0) ? String(UnicodeScalar($0)) : String(format: "%%%02X", $0) }.joined()
    }
}

/// The admin view of the engine: its `/internal/torrents` over the engine's unix socket
/// (nginx forwards nothing outside `/api/stream/`, so only local processes reach it).
struct EngineInspector: EngineInspecting {
    let client: HTTPClient

    init(socket: String, logger: Logger) {
        var policy = HTTPClientPolicy()
        policy.maxAttempts = 1
        policy.options.connectTimeout = 1
        policy.options.totalTimeout = 3
        policy.options.unixSocket = socket
        client = HTTPClient(policy: policy, logger: logger)
    }

    func torrentsJSON() throws -> [UInt8] { try fetchInternal("/internal/torrents") }

    func jobsJSON() throws -> [UInt8] { try fetchInternal("/internal/jobs") }

    func metricsText() throws -> [UInt8] {
        let response = try client.get("http://engine/internal/metrics", budget: 3)
        guard response.status == 200 else { throw SourceTorrents.Failure.noMetadata }
        return response.body
    }

    private func fetchInternal(_ path: String) throws -> [UInt8] {
        let response = try client.get("http://engine" + path, budget: 3)
        guard response.status == 200, response.body.first == UInt8(ascii: "[") else { throw SourceTorrents.Failure.noMetadata }
        return response.body
    }
}

/// API → engine wake-ups over the engine's datagram socket.
struct DatagramWaker: EngineWaking {
    let path: String

    func wake(_ job: String) { WakeChannel.send(job, to: path) }
}

/// A job's state as the admin view shows it.
struct JobDTO: Encodable {
    var name: String
    var interval: Double
    var runs: Int
    var failures: Int
    var timeouts: Int
    var consecutiveFailures: Int
    var successRate: Double
    var running: Bool
    var paused: Bool
    var lastDurationMs: Int?
    var lastItems: Int?
    var lastError: String?
    var nextRunInSeconds: Double?

    init(_ state: JobLedger.State) {
        name = state.name
        interval = state.interval
        runs = state.runs
        failures = state.failures
        timeouts = state.timeouts
        consecutiveFailures = state.consecutiveFailures
        successRate = (state.successRate * 1000).rounded() / 1000
        running = state.running
        paused = state.paused
        lastDurationMs = state.lastDuration.map { Int($0 * 1000) }
        lastItems = state.lastItems
        lastError = state.lastError
        nextRunInSeconds = state.nextRunIn.map { ($0 * 10).rounded() / 10 }
    }
}

/// Prometheus text exposition of the engine's state.
enum Metrics {
    static func render(jobs: [JobLedger.State], torrents: [TorrentSnapshot], dht: DHTSnapshot? = nil) -> String {
        var out = ""
        func family(_ name: String, _ type: String, _ help: String, _ samples: [(String, Double)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for (labels, value) in samples { out += "\(name)\(labels) \(value)\n" }
        }
        func label(_ key: String, _ value: String) -> String {
            "{\(key)=\"\(value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\""))\"}"
        }
        family("miauflix_job_runs_total", "counter", "Finished runs per background job", jobs.map { (label("job", $0.name), Double($0.runs)) })
        family("miauflix_job_failures_total", "counter", "Failed runs per background job", jobs.map { (label("job", $0.name), Double($0.failures)) })
        family("miauflix_job_last_duration_seconds", "gauge", "Duration of the last run", jobs.compactMap { job in job.lastDuration.map { (label("job", job.name), $0) } })
        family("miauflix_job_running", "gauge", "Whether the job is running now", jobs.map { (label("job", $0.name), $0.running ? 1 : 0) })
        family("miauflix_torrents_open", "gauge", "Open torrents", [("", Double(torrents.count))])
        family("miauflix_torrent_downloaded_bytes_total", "counter", "Bytes downloaded by open torrents", [("", Double(torrents.reduce(0) { $0 + $1.downloaded }))])
        family("miauflix_torrent_uploaded_bytes_total", "counter", "Bytes uploaded by open torrents", [("", Double(torrents.reduce(0) { $0 + $1.uploaded }))])
        family("miauflix_peers", "gauge", "Connected peers", [("", Double(torrents.reduce(0) { $0 + $1.peers }))])
        family("miauflix_streams", "gauge", "Streams being read", [("", Double(torrents.reduce(0) { $0 + $1.streams }))])
        family("miauflix_hash_failures_total", "counter", "Pieces that failed their hash check", [("", Double(torrents.reduce(0) { $0 + $1.hashFailures }))])
        family("miauflix_web_seed_bytes_total", "counter", "Verified bytes fetched from web seeds", [("", Double(torrents.reduce(0) { $0 + $1.webSeedDownloaded }))])
        if let dht {
            family("miauflix_dht_nodes", "gauge", "Nodes in the DHT routing table", [("", Double(dht.nodes))])
            family("miauflix_dht_lookups", "gauge", "DHT lookups running", [("", Double(dht.lookups))])
            family("miauflix_dht_stored_info_hashes", "gauge", "Info-hashes other nodes announced to us", [("", Double(dht.storedInfoHashes))])
            family("miauflix_dht_queries_answered_total", "counter", "DHT queries answered", [("", Double(dht.queriesAnswered))])
            family("miauflix_dht_datagrams_dropped_total", "counter", "DHT datagrams dropped (malformed, unsolicited, over the rate limits)", [("", Double(dht.datagramsDropped))])
        }
        return out
    }
}

/// Title pages hint the engine: an intent row (deduplicated per movie) and a wake-up. A
/// movie is looked at most once every 3 s per worker (a movie without sources yet) or once a
/// minute (hinted), so a busy page costs neither a database read nor a write per view.
final class PrefetchHinter: PrefetchHinting, @unchecked Sendable {
    let database: AppDatabase
    let waker: DatagramWaker
    /// When each movie, and each episode someone nearly finished, may be looked at again.
    private let movies = QuietPeriods<Int>()
    private let episodes = QuietPeriods<String>()
    static let hintGap: Double = 60
    static let noSourceGap: Double = 3
    static let episodeGap: Double = 3600

    init(database: AppDatabase, waker: DatagramWaker) {
        self.database = database
        self.waker = waker
    }

    func opened(movieId: Int, userId: String) {
        let now = Date()
        guard movies.claim(movieId, for: Self.hintGap, now: now) else { return }
        // Nothing to prefetch yet: look again after a short gap (sources may be found meanwhile).
        guard (try? database.sourceCount(movieId: movieId)) ?? 0 > 0 else {
            movies.quiet(movieId, until: now.addingTimeInterval(Self.noSourceGap))
            return
        }
        if (try? database.recordPrefetchIntent(userId: userId, movieId: movieId, now: now)) == true {
            waker.wake("stream-intents")
        }
    }

    /// The next episode's intent, once per episode and hour per worker (players report
    /// progress every few seconds).
    func nearlyWatched(showTmdbId: Int, season: Int, episode: Int, userId: String) {
        let now = Date()
        guard episodes.claim("\(showTmdbId):\(season):\(episode)", for: Self.episodeGap, now: now) else { return }
        let today = String(ISO8601DateFormatter().string(from: now).prefix(10))
        guard let next = try? database.nextEpisodeRef(showTmdbId: showTmdbId, season: season, episode: episode, today: today) else { return }
        if (try? database.recordEpisodePrefetchIntent(userId: userId, episodeId: next.episodeId, now: now)) == true {
            waker.wake("stream-intents")
        }
    }
}

/// Per-key quiet periods (thread-safe, bounded): `claim` says whether a key may be acted on
/// now and, if so, keeps it quiet for a while — so a hint costs a dictionary lookup, not a
/// database read, on busy pages.
final class QuietPeriods<Key: Hashable & Sendable>: @unchecked Sendable {
    private var until: [Key: Date] = [:]
    private let lock = NSLock()
    let capacity: Int

    init(capacity: Int = 10_000) { self.capacity = capacity }

    /// True (and quiet for `seconds`) unless the key is still quiet.
    func claim(_ key: Key, for seconds: Double, now: Date) -> Bool {
        lock.withLock {
            if let end = until[key], now < end { return false }
            if until.count > capacity { until.removeAll() }
            until[key] = now.addingTimeInterval(seconds)
            return true
        }
    }

    /// Shortens or extends a key's quiet period.
    func quiet(_ key: Key, until end: Date) { lock.withLock { until[key] = end } }
}

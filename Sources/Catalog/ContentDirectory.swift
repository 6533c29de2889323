import Foundation
import SourceLogic

/// One torrent a content directory offers for a title, normalized (reference §3.1).
public struct DirectorySource: Sendable, Equatable {
    /// Lower-case hex v1 info-hash.
    public var infoHash: String
    public var name: String
    public var provider: String
    /// Direct .torrent URL (YTS), if any.
    public var torrentURL: String?
    /// Trackers the directory lists for it.
    public var trackers: [String]
    public var info: ReleaseInfo
    public var size: Int64
    public var seeders: Int?
    public var leechers: Int?
    public var uploadedAt: Date?

    public init(infoHash: String, name: String, provider: String, torrentURL: String? = nil, trackers: [String] = [], info: ReleaseInfo,
                size: Int64, seeders: Int?, leechers: Int?, uploadedAt: Date? = nil) {
        self.infoHash = infoHash
        self.name = name
        self.provider = provider
        self.torrentURL = torrentURL
        self.trackers = trackers
        self.info = info
        self.size = size
        self.seeders = seeders
        self.leechers = leechers
        self.uploadedAt = uploadedAt
    }
}

/// What a directory knows about a movie.
public struct DirectoryResult: Sendable, Equatable {
    public var sources: [DirectorySource]
    /// A YouTube trailer code, when the directory has one.
    public var trailer: String?

    public init(sources: [DirectorySource], trailer: String? = nil) {
        self.sources = sources
        self.trailer = trailer
    }
}

/// Why a directory could not answer. `unavailable` means every mirror failed (try later).
public enum DirectoryError: Error, Equatable, Sendable {
    case unavailable(String)
    case rateLimited
}

/// The content-directory seam (YTS, TheRARBG in production; in-memory in tests). Blocking;
/// `onDemand` selects the faster rate-limit queue (a user waits).
public protocol ContentDirectory: Sendable {
    var name: String { get }
    func movie(imdbId: String, onDemand: Bool) throws(DirectoryError) -> DirectoryResult
    /// Episode sources (single episodes and season packs) of a show; directories without
    /// shows (YTS) answer nothing.
    func show(imdbId: String, onDemand: Bool) throws(DirectoryError) -> DirectoryResult
}

extension ContentDirectory {
    public func show(imdbId: String, onDemand: Bool) throws(DirectoryError) -> DirectoryResult { DirectoryResult(sources: []) }
}

/// A request-rate gate with two queues (background and on-demand): `reserve` says how long
/// to wait before the next request. Thread-safe.
public final class RateGate: @unchecked Sendable {
    let backgroundInterval: Double
    let onDemandInterval: Double
    private var nextBackground = 0.0
    private var nextOnDemand = 0.0
    private let lock = NSLock()

    public init(backgroundPerMinute: Double, onDemandPerSecond: Double) {
        backgroundInterval = 60 / backgroundPerMinute
        onDemandInterval = 1 / onDemandPerSecond
    }

    /// Seconds to wait (0: go); the slot is taken. On demand uses whichever queue frees first.
    public func reserve(onDemand: Bool, now: Double) -> Double {
        lock.lock()
        defer { lock.unlock() }
        if onDemand && nextOnDemand <= nextBackground {
            let start = max(now, nextOnDemand)
            nextOnDemand = start + onDemandInterval
            return start - now
        }
        let start = max(now, nextBackground)
        nextBackground = start + backgroundInterval
        return start - now
    }
}

import Bencode
import BitTorrentCore

/// The announce event.
public enum AnnounceEvent: String, Sendable {
    case none = ""
    case started
    case completed
    case stopped
}

/// What we tell a tracker.
public struct AnnounceRequest: Sendable, Equatable {
    public var infoHash: InfoHash
    public var peerID: [UInt8]
    public var port: UInt16
    public var uploaded: Int64
    public var downloaded: Int64
    public var left: Int64
    public var event: AnnounceEvent
    public var numWant: Int
    public var key: UInt32

    public init(infoHash: InfoHash, peerID: [UInt8], port: UInt16, uploaded: Int64 = 0, downloaded: Int64 = 0, left: Int64,
                event: AnnounceEvent = .none, numWant: Int = 50, key: UInt32 = 0) {
        self.infoHash = infoHash
        self.peerID = peerID
        self.port = port
        self.uploaded = uploaded
        self.downloaded = downloaded
        self.left = left
        self.event = event
        self.numWant = numWant
        self.key = key
    }
}

/// A tracker's answer.
public struct AnnounceResponse: Sendable, Equatable {
    public var interval: Int
    public var minInterval: Int?
    public var seeders: Int?
    public var leechers: Int?
    /// `host:port` strings (IPv4 from compact or dictionary form, IPv6 from `peers6`).
    public var peers: [String]
}

/// Tracker failures.
public enum TrackerError: Error, Equatable, Sendable {
    /// The tracker said no (its `failure reason`).
    case failure(String)
    case malformed
    case transactionMismatch
}

/// HTTP tracker requests and responses (BEP 3, compact peers BEP 23, scrape convention).
public enum HTTPTracker {
    /// The announce URL with the query (binary fields percent-encoded byte by byte).
    public static func announceURL(_ base: String, _ request: AnnounceRequest) -> String {
        var query = "info_hash=\(percent(request.infoHash.bytes))&peer_id=\(percent(request.peerID))&port=\(request.port)"
        query += "&uploaded=\(request.uploaded)&downloaded=\(request.downloaded)&left=\(request.left)&compact=1"
        query += "&numwant=\(request.numWant)&key=\(String(request.key, radix: 16))"
        if request.event != .none { query += "&event=\(request.event.rawValue)" }
        return base + (base.contains("?") ? "&" : "?") + query
    }

    /// The scrape URL for an announce URL, when the tracker follows the convention (the last
    /// path component starts with `announce`).
    public static func scrapeURL(_ announce: String, infoHashes: [InfoHash]) -> String? {
        guard let slash = announce.lastIndex(of: "/") else { return nil }
        let last = announce[announce.index(after: slash)...]
        guard last.hasPrefix("announce") else { return nil }
        let base = announce[...slash] + "scrape" + last.dropFirst("announce".count)
        let query = infoHashes.map { "info_hash=\(percent($0.bytes))" }.joined(separator: "&")
        return String(base) + (base.contains("?") ? "&" : "?") + query
    }

    public static func parseAnnounce(_ body: [UInt8]) throws(TrackerError) -> AnnounceResponse {
        let root = try decodeRoot(body)
        let reason = root["failure reason"]?.string
        if let reason { throw .failure(String(reason.prefix(200))) }
        let intervalValue = root["interval"]?.integer
        guard let interval = intervalValue, interval > 0, interval < 86400 * 7 else { throw .malformed }
        let peers = try Self.peers(of: root)
        return AnnounceResponse(interval: Int(interval), minInterval: root["min interval"]?.integer.map(Int.init),
                                seeders: root["complete"]?.integer.map(Int.init), leechers: root["incomplete"]?.integer.map(Int.init),
                                peers: Array(peers.prefix(1000)))
    }

    /// Seeders, leechers and completed downloads per info-hash.
    public static func parseScrape(_ body: [UInt8]) throws(TrackerError) -> [InfoHash: (seeders: Int, leechers: Int, completed: Int)] {
        let root = try decodeRoot(body)
        let reason = root["failure reason"]?.string
        if let reason { throw .failure(String(reason.prefix(200))) }
        var result: [InfoHash: (Int, Int, Int)] = [:]
        for entry in root["files"]?.dictionary ?? [] {
            guard let hash = InfoHash(bytes: entry.key) else { continue }
            result[hash] = (Int(entry.value["complete"]?.integer ?? 0), Int(entry.value["incomplete"]?.integer ?? 0),
                            Int(entry.value["downloaded"]?.integer ?? 0))
        }
        return result
    }

    /// Peers from `peers` (compact or dictionaries) and `peers6`.
    static func peers(of root: BNode) throws(TrackerError) -> [String] {
        var peers: [String] = []
        var malformed = false
        let node = root["peers"]
        switch node?.kind {
        case let .bytes(compact):
            if compact.count % 6 == 0 {
                for offset in stride(from: 0, to: compact.count, by: 6) {
                    if let peer = CompactPeer(bytes: Array(compact[offset..<(offset + 6)])) { peers.append(peer.description) }
                }
            } else {
                malformed = true
            }
        case let .list(list):
            for peer in list {
                let ip = peer["ip"]?.string ?? ""
                let port = peer["port"]?.integer ?? 0
                guard !ip.isEmpty, ip.count <= 45, port > 0, port < 65536 else { continue }
                peers.append(ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)")
            }
        default:
            break
        }
        if malformed { throw .malformed }
        let v6 = root["peers6"]?.bytes ?? []
        if v6.count % 18 == 0 {
            for offset in stride(from: 0, to: v6.count, by: 18) {
                let chunk = Array(v6[offset..<(offset + 18)])
                let groups = stride(from: 0, to: 16, by: 2).map { String(UInt16(chunk[$0]) << 8 | UInt16(chunk[$0 + 1]), radix: 16) }
                peers.append("[\(groups.joined(separator: ":"))]:\(UInt16(chunk[16]) << 8 | UInt16(chunk[17]))")
            }
        }
        return peers
    }

    /// The root dictionary of a tracker answer.
    static func decodeRoot(_ body: [UInt8]) throws(TrackerError) -> BNode {
        let root: BNode
        do { root = try BencodeDecoder().decode(body) } catch { throw .malformed }
        guard case .dictionary = root.kind else { throw .malformed }
        return root
    }

    static func percent(_ bytes: [UInt8]) -> String {
        let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)
        let digits = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            if unreserved.contains(byte) { out.append(byte) } else { out += [UInt8(ascii: "%"), digits[Int(byte >> 4)], digits[Int(byte & 15)]] }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

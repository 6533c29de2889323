import Bencode

/// A parsed .torrent file (BEP 3, v1), validated: pieces are 20-byte hashes whose count matches
/// the total length and piece length, file paths are sanitized, lengths are sane.
public struct Metainfo: Sendable, Equatable {
    /// One file of the torrent, in order.
    public struct File: Sendable, Equatable {
        /// Sanitized path components (the torrent's name is the first directory for multi-file torrents).
        public var path: [String]
        public var length: Int64
        /// Offset of the file's first byte in the torrent's byte stream.
        public var offset: Int64
    }

    public var infoHash: InfoHash
    public var name: String
    public var pieceLength: Int
    public var pieceHashes: [[UInt8]]
    public var files: [File]
    public var totalLength: Int64
    public var isPrivate: Bool
    public var announce: String?
    /// BEP 12 tiers (with `announce` as a single tier when there is no list).
    public var trackerTiers: [[String]]
    /// BEP 19 web seeds.
    public var webSeeds: [String]
    /// A single-file torrent (`length` in the info dictionary): its web seed URL names the file.
    public var isSingleFile = false
    public var comment: String?
    public var createdBy: String?
    public var creationDate: Int64?
    /// The raw `info` dictionary (what BEP 9 peers exchange).
    public var infoBytes: [UInt8]

    /// Why a .torrent is refused.
    public enum Problem: Error, Equatable, Sendable {
        case bencode(BencodeError)
        case missing(String)
        case invalid(String)
        case unsafePath(FilePathSanitizer.Problem)
    }

    /// Largest piece length accepted (libtorrent's limit is 128 MiB).
    public static let maximumPieceLength = 128 << 20
    /// Most files accepted.
    public static let maximumFiles = 100_000

    /// Parses a .torrent. `sha1` hashes the raw `info` bytes (Crypto's, passed in: this module
    /// stays pure).
    public static func parse(_ bytes: [UInt8], sha1: ([UInt8]) -> [UInt8]) throws(Problem) -> Metainfo {
        let root: BNode
        do { root = try BencodeDecoder().decode(bytes) } catch { throw .bencode(error) }
        guard root.dictionary != nil else { throw .invalid("root is not a dictionary") }
        guard let infoNode = root["info"], infoNode.dictionary != nil else { throw .missing("info") }
        let infoBytes = Array(bytes[infoNode.range])
        var metainfo = try parseInfo(infoNode, infoBytes: infoBytes, sha1: sha1)
        metainfo.announce = root["announce"]?.string.flatMap { $0.isEmpty ? nil : $0 }
        var tiers: [[String]] = root["announce-list"]?.list?.compactMap { tier in
            let urls = tier.list?.compactMap { $0.string }.filter { !$0.isEmpty } ?? []
            return urls.isEmpty ? nil : urls
        } ?? []
        if tiers.isEmpty, let announce = metainfo.announce { tiers = [[announce]] }
        metainfo.trackerTiers = tiers
        if let single = root["url-list"]?.string { metainfo.webSeeds = [single] } else {
            metainfo.webSeeds = root["url-list"]?.list?.compactMap { $0.string }.filter { !$0.isEmpty } ?? []
        }
        metainfo.comment = root["comment"]?.string
        metainfo.createdBy = root["created by"]?.string
        metainfo.creationDate = root["creation date"]?.integer
        return metainfo
    }

    /// Parses a raw `info` dictionary (a BEP 9 metadata download).
    public static func parseInfo(_ infoBytes: [UInt8], sha1: ([UInt8]) -> [UInt8]) throws(Problem) -> Metainfo {
        let node: BNode
        do { node = try BencodeDecoder().decode(infoBytes) } catch { throw .bencode(error) }
        return try parseInfo(node, infoBytes: infoBytes, sha1: sha1)
    }

    static func parseInfo(_ info: BNode, infoBytes: [UInt8], sha1: ([UInt8]) -> [UInt8]) throws(Problem) -> Metainfo {
        guard let hash = InfoHash(bytes: sha1(infoBytes)) else { throw .invalid("hash function did not return 20 bytes") }
        guard let rawName = info["name"]?.bytes else { throw .missing("info.name") }
        let name: String
        do { name = try FilePathSanitizer.sanitize([rawName])[0] } catch { throw .unsafePath(error) }
        guard let pieceLength = info["piece length"]?.integer else { throw .missing("info.piece length") }
        guard pieceLength >= 16 << 10, pieceLength <= maximumPieceLength else { throw .invalid("piece length \(pieceLength) outside 16 KiB…128 MiB") }
        guard let pieces = info["pieces"]?.bytes else { throw .missing("info.pieces") }
        guard pieces.count % 20 == 0, !pieces.isEmpty else { throw .invalid("pieces is not a list of 20-byte hashes") }
        let hashes = stride(from: 0, to: pieces.count, by: 20).map { Array(pieces[$0..<($0 + 20)]) }

        var files: [File] = []
        var total: Int64 = 0
        var singleFile = false
        if let length = info["length"]?.integer {
            guard info["files"] == nil else { throw .invalid("both length and files") }
            guard length >= 0 else { throw .invalid("negative length") }
            files = [File(path: [name], length: length, offset: 0)]
            total = length
            singleFile = true
        } else if let list = info["files"]?.list {
            guard !list.isEmpty, list.count <= maximumFiles else { throw .invalid("file count \(list.count)") }
            for entry in list {
                guard let length = entry["length"]?.integer, length >= 0 else { throw .invalid("file length") }
                guard let path = entry["path"]?.list, !path.isEmpty else { throw .missing("files.path") }
                var components: [[UInt8]] = []
                for component in path {
                    guard let bytes = component.bytes else { throw .invalid("path component is not a string") }
                    components.append(bytes)
                }
                let safe: [String]
                do { safe = try FilePathSanitizer.sanitize(components) } catch { throw .unsafePath(error) }
                let (sum, overflow) = total.addingReportingOverflow(length)
                guard !overflow, sum <= 1 << 50 else { throw .invalid("total length too large") }
                files.append(File(path: [name] + safe, length: length, offset: total))
                total = sum
            }
        } else {
            throw .missing("info.length or info.files")
        }
        let expectedPieces = total == 0 ? 0 : (total + pieceLength - 1) / pieceLength
        guard Int64(hashes.count) == max(expectedPieces, 1) else {
            throw .invalid("\(hashes.count) piece hashes for \(total) bytes at \(pieceLength) per piece (expected \(expectedPieces))")
        }
        var metainfo = Metainfo(infoHash: hash, name: name, pieceLength: Int(pieceLength), pieceHashes: hashes, files: files, totalLength: total,
                                isPrivate: info["private"]?.integer == 1, announce: nil, trackerTiers: [], webSeeds: [], comment: nil,
                                createdBy: nil, creationDate: nil, infoBytes: infoBytes)
        metainfo.isSingleFile = singleFile
        return metainfo
    }
}

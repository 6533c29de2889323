import BitTorrentCore
import Crypto
import Foundation

/// Storage failures: each fails the torrent it concerns, never the process.
public enum StorageError: Error, Equatable, Sendable {
    case diskFull
    case io(errno: Int32)
    case outOfRange
}

/// The storage seam of the engine (files in production, memory in tests). Reads and writes
/// are piece-relative and bounded by the geometry; `verify` checks a whole piece against its
/// SHA-1 before it may count as downloaded.
public protocol PieceStore: Sendable {
    /// Writes `bytes` at `begin` inside `piece` (a block, or a whole verified piece).
    func write(piece: PieceIndex, begin: Int, bytes: [UInt8]) throws(StorageError)
    func read(piece: PieceIndex, begin: Int, length: Int) throws(StorageError) -> [UInt8]
    func verify(_ piece: PieceIndex) throws(StorageError) -> Bool
}

extension PieceStore {
    /// Writes one block.
    public func write(_ block: BlockRange, bytes: [UInt8]) throws(StorageError) {
        guard bytes.count == block.length else { throw .outOfRange }
        try write(piece: block.piece, begin: block.begin, bytes: bytes)
    }

    /// Hashes a piece read through `read`.
    func hashMatches(_ piece: PieceIndex, geometry: PieceGeometry, expected: [UInt8]) throws(StorageError) -> Bool {
        let bytes = try read(piece: piece, begin: 0, length: geometry.length(of: piece))
        return Digest.sha1(bytes) == expected
    }
}

/// Files under `root/<info-hash>/<sanitized paths>`, written with pwrite and read with pread
/// (callers run these on the engine's I/O thread pool, never on an event loop). Paths come
/// only from `Metainfo` (sanitized), and are joined under the torrent's own folder.
public final class FilePieceStore: PieceStore, @unchecked Sendable {
    let metainfo: Metainfo
    let geometry: PieceGeometry
    let layout: FileLayout
    /// The torrent's folder.
    public let folder: String
    private var descriptors: [Int: Int32] = [:]
    private let lock = NSLock()

    public init(metainfo: Metainfo, root: String) {
        self.metainfo = metainfo
        geometry = PieceGeometry(totalLength: metainfo.totalLength, pieceLength: metainfo.pieceLength)!
        layout = FileLayout(files: metainfo.files)
        folder = root + "/" + metainfo.infoHash.hex
    }

    deinit { descriptors.values.forEach { close($0) } }

    /// The path of file `index` on disk.
    public func path(of index: Int) -> String { folder + "/" + metainfo.files[index].path.joined(separator: "/") }

    func descriptor(_ file: Int) throws(StorageError) -> Int32 {
        lock.lock()
        defer { lock.unlock() }
        if let fd = descriptors[file] { return fd }
        let path = path(of: file)
        let directory = (path as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw errno == ENOSPC ? .diskFull : .io(errno: errno) }
        descriptors[file] = fd
        return fd
    }

    public func write(piece: PieceIndex, begin: Int, bytes: [UInt8]) throws(StorageError) {
        guard begin >= 0, begin + bytes.count <= geometry.length(of: piece) else { throw .outOfRange }
        var consumed = 0
        for span in layout.spans(offset: geometry.offset(of: piece) + Int64(begin), length: bytes.count) {
            let fd = try descriptor(span.file)
            var done = 0
            while done < span.length {
                let written = bytes.withUnsafeBytes { raw in
                    pwrite(fd, raw.baseAddress! + consumed + done, span.length - done, off_t(span.offset) + off_t(done))
                }
                if written < 0 {
                    if errno == EINTR { continue }
                    throw errno == ENOSPC ? .diskFull : .io(errno: errno)
                }
                done += written
            }
            consumed += span.length
        }
    }

    public func read(piece: PieceIndex, begin: Int, length: Int) throws(StorageError) -> [UInt8] {
        guard begin >= 0, length >= 0, begin + length <= geometry.length(of: piece) else { throw .outOfRange }
        var out = [UInt8](repeating: 0, count: length)
        var filled = 0
        for span in layout.spans(offset: geometry.offset(of: piece) + Int64(begin), length: length) {
            let fd = try descriptor(span.file)
            var done = 0
            while done < span.length {
                let got = out.withUnsafeMutableBytes { raw in
                    pread(fd, raw.baseAddress! + filled + done, span.length - done, off_t(span.offset) + off_t(done))
                }
                if got < 0 {
                    if errno == EINTR { continue }
                    throw .io(errno: errno)
                }
                if got == 0 { break }  // not written yet: zeros (the hash check will fail)
                done += got
            }
            filled += span.length
        }
        return out
    }

    public func verify(_ piece: PieceIndex) throws(StorageError) -> Bool {
        try hashMatches(piece, geometry: geometry, expected: metainfo.pieceHashes[piece.value])
    }
}

/// Pieces in memory, for engine tests.
public final class MemoryPieceStore: PieceStore, @unchecked Sendable {
    let geometry: PieceGeometry
    let hashes: [[UInt8]]
    private var data: [UInt8]
    private let lock = NSLock()

    public init(geometry: PieceGeometry, hashes: [[UInt8]]) {
        self.geometry = geometry
        self.hashes = hashes
        data = [UInt8](repeating: 0, count: Int(geometry.totalLength))
    }

    public func write(piece: PieceIndex, begin: Int, bytes: [UInt8]) throws(StorageError) {
        guard begin >= 0, begin + bytes.count <= geometry.length(of: piece) else { throw .outOfRange }
        let start = Int(geometry.offset(of: piece)) + begin
        lock.lock()
        data.replaceSubrange(start..<(start + bytes.count), with: bytes)
        lock.unlock()
    }

    public func read(piece: PieceIndex, begin: Int, length: Int) throws(StorageError) -> [UInt8] {
        guard begin >= 0, length >= 0, begin + length <= geometry.length(of: piece) else { throw .outOfRange }
        let start = Int(geometry.offset(of: piece)) + begin
        lock.lock()
        defer { lock.unlock() }
        return Array(data[start..<(start + length)])
    }

    public func verify(_ piece: PieceIndex) throws(StorageError) -> Bool {
        try hashMatches(piece, geometry: geometry, expected: hashes[piece.value])
    }
}

/// The optional encrypted chunk store (`STORAGE_ENCRYPTION`): another store's bytes under
/// AES-256-CTR with a per-torrent key (HKDF of the master key with the info-hash), counters
/// taken from the byte's position in the torrent, so pieces and torrents never share one.
/// Ranges are independent: a stream reads any offset without touching its neighbours.
public final class EncryptedPieceStore: PieceStore, @unchecked Sendable {
    let inner: any PieceStore
    let geometry: PieceGeometry
    let hashes: [[UInt8]]
    let key: [UInt8]

    public init(inner: any PieceStore, geometry: PieceGeometry, hashes: [[UInt8]], key: [UInt8]) {
        self.inner = inner
        self.geometry = geometry
        self.hashes = hashes
        self.key = key
    }

    /// The torrent's key: HKDF-SHA256(master, salt, "miauflix-chunk-v1" + info-hash).
    public static func torrentKey(master: [UInt8], salt: [UInt8], infoHash: InfoHash) -> [UInt8] {
        HKDF.sha256(key: master, salt: salt, info: Array("miauflix-chunk-v1".utf8) + infoHash.bytes, length: 32)
    }

    public func write(piece: PieceIndex, begin: Int, bytes: [UInt8]) throws(StorageError) {
        try inner.write(piece: piece, begin: begin, bytes: AESCTR.apply(bytes, key: key, offset: geometry.offset(of: piece) + Int64(begin)))
    }

    public func read(piece: PieceIndex, begin: Int, length: Int) throws(StorageError) -> [UInt8] {
        AESCTR.apply(try inner.read(piece: piece, begin: begin, length: length), key: key, offset: geometry.offset(of: piece) + Int64(begin))
    }

    public func verify(_ piece: PieceIndex) throws(StorageError) -> Bool {
        try hashMatches(piece, geometry: geometry, expected: hashes[piece.value])
    }
}

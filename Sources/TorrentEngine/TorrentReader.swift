import BitTorrentCore
import NIOCore
import SwarmLogic

/// Why a stream read could not be served.
public enum StreamReadError: Error, Equatable, Sendable {
    case stopped
    case storage(StorageError)
    case outOfRange
}

/// A stream's read position in one file of a torrent. Each read registers the position as
/// the stream's playback window, so the pieces it needs get deadlines (earliest first) and
/// a readahead follows; a seek simply moves the window. Closing it clears the deadlines.
public final class TorrentReader: @unchecked Sendable {
    public let torrent: Torrent
    public let fileIndex: Int
    let id: Int
    /// The file's length and its offset in the torrent's byte stream.
    public let length: Int64
    let fileOffset: Int64
    public var fileName: String { torrent.metainfo.files[fileIndex].path.last ?? torrent.metainfo.name }

    init(torrent: Torrent, fileIndex: Int, id: Int) {
        self.torrent = torrent
        self.fileIndex = fileIndex
        self.id = id
        length = torrent.metainfo.files[fileIndex].length
        fileOffset = torrent.metainfo.files[fileIndex].offset
    }

    /// Up to `maxLength` bytes at `offset` of the file, as soon as the piece holding `offset`
    /// is verified (never more than to the end of that piece).
    public func read(at offset: Int64, maxLength: Int) -> EventLoopFuture<ByteBuffer> {
        torrent.loop.flatSubmit { [self] in
            torrent.read(reader: id, at: fileOffset + offset, limit: min(Int64(maxLength), length - offset))
        }
    }

    /// Ends the stream: its window no longer drives priorities.
    public func close() {
        torrent.loop.execute { [self] in torrent.closeReader(id) }
    }
}

extension Torrent {
    /// A reader on `fileIndex` (default: the largest file, what a player wants).
    public func openReader(fileIndex: Int? = nil) -> EventLoopFuture<TorrentReader> {
        downloadEverything()
        return loop.submit { [self] in
            nextReaderID += 1
            let index = fileIndex ?? layout.largestFile ?? 0
            return TorrentReader(torrent: self, fileIndex: index, id: nextReaderID)
        }
    }

    func closeReader(_ id: Int) {
        readers[id] = nil
        updateWindows()
    }

    /// Readahead: ~30 s at the file's estimated bitrate (size over an hour, at least
    /// 256 KB/s), never under four pieces.
    func window(at position: Int64) -> PiecePicker.Window {
        let main = layout.largestFile.map { metainfo.files[$0].length } ?? metainfo.totalLength
        let bytesPerSecond = max(256_000, Double(main) / 3600)
        let readahead = max(Int64(4 * geometry.pieceLength), Int64(bytesPerSecond * 30))
        return PiecePicker.Window(position: position, readahead: readahead, bytesPerSecond: bytesPerSecond)
    }

    func updateWindows() {
        picker.setPlaybackWindows(Array(readers.values), now: now)
        planner.prioritize(picker.piecesByDeadline)
        fillAll()
    }

    func read(reader: Int, at position: Int64, limit: Int64) -> EventLoopFuture<ByteBuffer> {
        guard limit > 0, position >= 0, position < metainfo.totalLength,
              let piece = geometry.pieces(coveringBytes: position, position + 1).first else {
            return loop.makeFailedFuture(StreamReadError.outOfRange)
        }
        if let failure { return loop.makeFailedFuture(StreamReadError.storage(failure)) }
        if stopped { return loop.makeFailedFuture(StreamReadError.stopped) }
        lastActivity = now
        let previous = readers[reader]
        let window = window(at: position)
        readers[reader] = window
        // Re-plan only when the window moved by a piece or more (sequential reads inside a
        // piece change nothing). A jump outside the old window, or a new stream whose first
        // piece is missing, is a seek: requests outside the windows are cancelled so peers
        // answer the new position first.
        let moved = previous.map { abs($0.position - position) >= Int64(geometry.pieceLength) } ?? true
        let seek = previous.map { position < $0.position || position > $0.position + $0.readahead } ?? !picker.have[piece.value]
        if seek {
            picker.setPlaybackWindows(Array(readers.values), now: now)
            perform(planner.cancelRequests(outside: Set(picker.piecesByDeadline)))
        }
        if moved || seek { updateWindows() }
        let store = store
        return waitFor(piece).flatMap { [self] in
            // Everything verified from `position` on, up to `limit`, in one disk hop: when the
            // download is ahead of the player, a read returns several pieces at once.
            var spans: [(piece: PieceIndex, begin: Int, length: Int)] = []
            var cursor = position
            var remaining = limit
            var current: PieceIndex? = piece
            while let next = current, remaining > 0, picker.have[next.value] {
                let begin = Int(cursor - geometry.offset(of: next))
                let length = Int(min(remaining, Int64(geometry.length(of: next) - begin)))
                spans.append((next, begin, length))
                cursor += Int64(length)
                remaining -= Int64(length)
                current = geometry.piece(next.value + 1)
            }
            let total = spans.reduce(0) { $0 + $1.length }
            let planned = spans
            engine.logger.trace("stream read", metadata: ["event": "stream_read", "source": "\(sourceId)", "position": "\(position)", "bytes": "\(total)"])
            return engine.threadPool.runIfActive(eventLoop: loop) { () throws(StorageError) -> ByteBuffer in
                var buffer = ByteBufferAllocator().buffer(capacity: total)
                for span in planned { buffer.writeBytes(try store.read(piece: span.piece, begin: span.begin, length: span.length)) }
                return buffer
            }
        }
    }

    func waitFor(_ piece: PieceIndex) -> EventLoopFuture<Void> {
        if picker.have[piece.value] { return loop.makeSucceededVoidFuture() }
        let promise = loop.makePromise(of: Void.self)
        waiters[piece.value, default: []].append(promise)
        return promise.futureResult
    }

    /// Whether bytes `[start, end)` of the torrent are all verified on disk.
    public func hasBytes(_ start: Int64, _ end: Int64) -> EventLoopFuture<Bool> {
        loop.submit { [self] in geometry.pieces(coveringBytes: start, end).allSatisfy { picker.have[$0.value] } }
    }
}

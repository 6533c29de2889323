/// A peer-wire message: BEP 3, BEP 6 (fast extension), BEP 10 (extended) and BEP 5's port.
public enum PeerMessage: Sendable, Equatable {
    case keepAlive
    case choke
    case unchoke
    case interested
    case notInterested
    case have(piece: UInt32)
    case bitfield([UInt8])
    case request(piece: UInt32, begin: UInt32, length: UInt32)
    case piece(piece: UInt32, begin: UInt32, block: [UInt8])
    case cancel(piece: UInt32, begin: UInt32, length: UInt32)
    case port(UInt16)
    case suggest(piece: UInt32)
    case haveAll
    case haveNone
    case reject(piece: UInt32, begin: UInt32, length: UInt32)
    case allowedFast(piece: UInt32)
    /// BEP 10: extension message id and its payload.
    case extended(id: UInt8, payload: [UInt8])

    /// The message with its 4-byte length prefix.
    public var encoded: [UInt8] {
        var body: [UInt8]
        switch self {
        case .keepAlive: return [0, 0, 0, 0]
        case .choke: body = [0]
        case .unchoke: body = [1]
        case .interested: body = [2]
        case .notInterested: body = [3]
        case let .have(piece): body = [4] + be32(piece)
        case let .bitfield(bits): body = [5] + bits
        case let .request(piece, begin, length): body = [6] + be32(piece) + be32(begin) + be32(length)
        case let .piece(piece, begin, block): body = [7] + be32(piece) + be32(begin) + block
        case let .cancel(piece, begin, length): body = [8] + be32(piece) + be32(begin) + be32(length)
        case let .port(port): body = [9, UInt8(port >> 8), UInt8(port & 0xff)]
        case let .suggest(piece): body = [13] + be32(piece)
        case .haveAll: body = [14]
        case .haveNone: body = [15]
        case let .reject(piece, begin, length): body = [16] + be32(piece) + be32(begin) + be32(length)
        case let .allowedFast(piece): body = [17] + be32(piece)
        case let .extended(id, payload): body = [20, id] + payload
        }
        return be32(UInt32(body.count)) + body
    }
}

func be32(_ value: UInt32) -> [UInt8] {
    [UInt8(value >> 24), UInt8((value >> 16) & 0xff), UInt8((value >> 8) & 0xff), UInt8(value & 0xff)]
}

func readBE32(_ bytes: ArraySlice<UInt8>, at offset: Int) -> UInt32 {
    let i = bytes.startIndex + offset
    return UInt32(bytes[i]) << 24 | UInt32(bytes[i + 1]) << 16 | UInt32(bytes[i + 2]) << 8 | UInt32(bytes[i + 3])
}

/// An incremental, framing-safe peer-wire decoder: feed it bytes as they arrive (split
/// anywhere), take complete messages out. The length prefix is checked against
/// `maximumMessageLength` before any payload is buffered for it.
public struct PeerWireDecoder: Sendable {
    /// The longest message accepted: a 16 KiB block plus header, or a large bitfield.
    public var maximumMessageLength: Int
    /// Whether the peer's handshake is still expected first.
    public private(set) var awaitingHandshake: Bool
    private var buffer: [UInt8] = []
    private var start = 0

    /// Creates a decoder; with `expectHandshake` the first 68 bytes are a handshake.
    public init(expectHandshake: Bool = true, maximumMessageLength: Int = 1 << 20) {
        awaitingHandshake = expectHandshake
        self.maximumMessageLength = maximumMessageLength
    }

    /// Appends received bytes.
    public mutating func feed(_ bytes: [UInt8]) {
        if start > 0 && start > buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Bytes received but not yet decoded.
    public var pendingBytes: Int { buffer.count - start }

    /// The peer's handshake, once complete (call before `next()` while `awaitingHandshake`).
    public mutating func handshake() throws(PeerWireError) -> Handshake? {
        guard awaitingHandshake else { return nil }
        if pendingBytes >= 1 && buffer[start] != 19 { throw .badHandshake }
        guard pendingBytes >= Handshake.length else { return nil }
        let handshake = try Handshake.decode(buffer[start..<(start + Handshake.length)])
        start += Handshake.length
        awaitingHandshake = false
        return handshake
    }

    /// The next complete message, or nil when more bytes are needed.
    public mutating func next() throws(PeerWireError) -> PeerMessage? {
        precondition(!awaitingHandshake, "read the handshake first")
        guard pendingBytes >= 4 else { return nil }
        let length = Int(readBE32(buffer[start...], at: 0))
        guard length <= maximumMessageLength else { throw .messageTooLong(length) }
        guard pendingBytes >= 4 + length else { return nil }
        let body = buffer[(start + 4)..<(start + 4 + length)]
        start += 4 + length
        return try Self.message(body)
    }

    static func message(_ body: ArraySlice<UInt8>) throws(PeerWireError) -> PeerMessage {
        guard let id = body.first else { return .keepAlive }
        let payload = body.dropFirst()
        func expect(_ size: Int) throws(PeerWireError) {
            guard payload.count == size else { throw .badLength(id: id, length: body.count) }
        }
        switch id {
        case 0: try expect(0); return .choke
        case 1: try expect(0); return .unchoke
        case 2: try expect(0); return .interested
        case 3: try expect(0); return .notInterested
        case 4: try expect(4); return .have(piece: readBE32(payload, at: 0))
        case 5: return .bitfield(Array(payload))
        case 6: try expect(12); return .request(piece: readBE32(payload, at: 0), begin: readBE32(payload, at: 4), length: readBE32(payload, at: 8))
        case 7:
            guard payload.count >= 8 else { throw .badLength(id: id, length: body.count) }
            return .piece(piece: readBE32(payload, at: 0), begin: readBE32(payload, at: 4), block: Array(payload.dropFirst(8)))
        case 8: try expect(12); return .cancel(piece: readBE32(payload, at: 0), begin: readBE32(payload, at: 4), length: readBE32(payload, at: 8))
        case 9: try expect(2); return .port(UInt16(payload[payload.startIndex]) << 8 | UInt16(payload[payload.startIndex + 1]))
        case 13: try expect(4); return .suggest(piece: readBE32(payload, at: 0))
        case 14: try expect(0); return .haveAll
        case 15: try expect(0); return .haveNone
        case 16: try expect(12); return .reject(piece: readBE32(payload, at: 0), begin: readBE32(payload, at: 4), length: readBE32(payload, at: 8))
        case 17: try expect(4); return .allowedFast(piece: readBE32(payload, at: 0))
        case 20:
            guard let extensionID = payload.first else { throw .badLength(id: id, length: body.count) }
            return .extended(id: extensionID, payload: Array(payload.dropFirst()))
        default:
            throw .unknownMessage(id)
        }
    }
}

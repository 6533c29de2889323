import Bencode

/// The BEP 10 extended handshake (extension message id 0).
public struct ExtendedHandshake: Sendable, Equatable {
    /// Extension name → the id the sender wants to receive it under (`ut_metadata`, `ut_pex`).
    public var extensions: [String: UInt8]
    /// BEP 9: size of the info dictionary.
    public var metadataSize: Int?
    /// Client name and version.
    public var client: String?
    /// The sender's listen port.
    public var listenPort: UInt16?
    /// Outstanding requests the sender allows.
    public var requestQueue: Int?

    public init(extensions: [String: UInt8], metadataSize: Int? = nil, client: String? = nil, listenPort: UInt16? = nil, requestQueue: Int? = nil) {
        self.extensions = extensions
        self.metadataSize = metadataSize
        self.client = client
        self.listenPort = listenPort
        self.requestQueue = requestQueue
    }

    /// Largest metadata size believed (the info dictionary of a huge torrent is a few MB).
    public static let maximumMetadataSize = 32 << 20

    public var encoded: [UInt8] {
        var entries: [String: BValue] = ["m": .dict(extensions.mapValues { .integer(Int64($0)) })]
        if let metadataSize { entries["metadata_size"] = .integer(Int64(metadataSize)) }
        if let client { entries["v"] = .string(client) }
        if let listenPort { entries["p"] = .integer(Int64(listenPort)) }
        if let requestQueue { entries["reqq"] = .integer(Int64(requestQueue)) }
        return BValue.dict(entries).encoded
    }

    public static func decode(_ payload: [UInt8]) throws(PeerWireError) -> ExtendedHandshake {
        let root: BNode
        do { root = try BencodeDecoder().decode(payload) } catch { throw .badExtendedPayload }
        guard root.dictionary != nil else { throw .badExtendedPayload }
        var extensions: [String: UInt8] = [:]
        if let table = root["m"], let entries = table.dictionary {
            for entry in entries {
                guard let name = String(validating: entry.key, as: UTF8.self), let id = entry.value.integer else { continue }
                if id > 0 && id <= 255 { extensions[name] = UInt8(id) }
            }
        }
        var size: Int?
        if let value = root["metadata_size"]?.integer, value > 0, value <= Int64(maximumMetadataSize) { size = Int(value) }
        var port: UInt16?
        if let value = root["p"]?.integer, value > 0, value <= 65535 { port = UInt16(value) }
        var reqq: Int?
        if let value = root["reqq"]?.integer, value > 0, value <= 100_000 { reqq = Int(value) }
        let client = root["v"]?.string
        return ExtendedHandshake(extensions: extensions, metadataSize: size, client: client, listenPort: port, requestQueue: reqq)
    }
}

/// A BEP 9 `ut_metadata` message: request, data (with the 16 KiB piece after the dictionary)
/// or reject.
public enum MetadataMessage: Sendable, Equatable {
    case request(piece: Int)
    case data(piece: Int, totalSize: Int, bytes: [UInt8])
    case reject(piece: Int)

    /// Metadata is exchanged in 16 KiB pieces.
    public static let pieceLength = 16 * 1024

    public var encoded: [UInt8] {
        switch self {
        case let .request(piece): return BValue.dict(["msg_type": .integer(0), "piece": .integer(Int64(piece))]).encoded
        case let .data(piece, totalSize, bytes):
            return BValue.dict(["msg_type": .integer(1), "piece": .integer(Int64(piece)), "total_size": .integer(Int64(totalSize))]).encoded + bytes
        case let .reject(piece): return BValue.dict(["msg_type": .integer(2), "piece": .integer(Int64(piece))]).encoded
        }
    }

    public static func decode(_ payload: [UInt8]) throws(PeerWireError) -> MetadataMessage {
        guard let (root, used) = try? BencodeDecoder().decodePrefix(payload), let type = root["msg_type"]?.integer,
              let piece = root["piece"]?.integer, piece >= 0, piece < Int64(ExtendedHandshake.maximumMetadataSize / pieceLength) else {
            throw .badExtendedPayload
        }
        switch type {
        case 0: return .request(piece: Int(piece))
        case 1:
            guard let total = root["total_size"]?.integer, total > 0, total <= Int64(ExtendedHandshake.maximumMetadataSize),
                  payload.count - used <= pieceLength else { throw .badExtendedPayload }
            return .data(piece: Int(piece), totalSize: Int(total), bytes: Array(payload[used...]))
        case 2: return .reject(piece: Int(piece))
        default: throw .badExtendedPayload
        }
    }
}

/// A BEP 11 `ut_pex` message: compact IPv4 peers added and dropped.
public struct PexMessage: Sendable, Equatable {
    public var added: [CompactPeer]
    /// One byte per added peer: 0x01 prefers encryption, 0x02 is a seed, 0x10 is reachable
    /// (we connected to it).
    public var addedFlags: [UInt8]
    public var dropped: [CompactPeer]

    public static let prefersEncryption: UInt8 = 0x01
    public static let seed: UInt8 = 0x02
    public static let reachable: UInt8 = 0x10

    public init(added: [CompactPeer], addedFlags: [UInt8]? = nil, dropped: [CompactPeer]) {
        self.added = added
        self.addedFlags = addedFlags ?? [UInt8](repeating: 0, count: added.count)
        self.dropped = dropped
    }

    public var encoded: [UInt8] {
        BValue.dict(["added": .bytes(added.flatMap(\.bytes)), "added.f": .bytes(addedFlags),
                     "dropped": .bytes(dropped.flatMap(\.bytes))]).encoded
    }

    public static func decode(_ payload: [UInt8]) throws(PeerWireError) -> PexMessage {
        guard let root = try? BencodeDecoder().decode(payload), root.dictionary != nil else { throw .badExtendedPayload }
        func peers(_ key: String) throws(PeerWireError) -> [CompactPeer] {
            guard let bytes = root[key]?.bytes else { return [] }
            guard bytes.count % 6 == 0, bytes.count <= 6 * 500 else { throw .badExtendedPayload }
            return stride(from: 0, to: bytes.count, by: 6).map { CompactPeer(bytes: Array(bytes[$0..<($0 + 6)]))! }
        }
        let added = try peers("added")
        var flags = root["added.f"]?.bytes ?? []
        flags = flags.count == added.count ? flags : [UInt8](repeating: 0, count: added.count)
        return PexMessage(added: added, addedFlags: flags, dropped: try peers("dropped"))
    }
}

/// An IPv4 address and port in the 6-byte compact form (BEP 23).
public struct CompactPeer: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == 6 else { return nil }
        self.bytes = bytes
    }

    public init(ip: (UInt8, UInt8, UInt8, UInt8), port: UInt16) {
        bytes = [ip.0, ip.1, ip.2, ip.3, UInt8(port >> 8), UInt8(port & 0xff)]
    }

    /// A dotted IPv4 address and a port; nil for anything else (IPv6, names, malformed).
    public init?(host: String, port: UInt16) {
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var octets: [UInt8] = []
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy({ ("0"..."9").contains($0) }), let octet = UInt8(part) else { return nil }
            octets.append(octet)
        }
        self.init(ip: (octets[0], octets[1], octets[2], octets[3]), port: port)
    }

    /// `a.b.c.d:port` (as peer books write addresses).
    public init?(address: String) {
        guard let colon = address.lastIndex(of: ":"), let port = UInt16(address[address.index(after: colon)...]) else { return nil }
        self.init(host: String(address[..<colon]), port: port)
    }

    public var port: UInt16 { UInt16(bytes[4]) << 8 | UInt16(bytes[5]) }
    public var description: String { "\(bytes[0]).\(bytes[1]).\(bytes[2]).\(bytes[3]):\(port)" }
}

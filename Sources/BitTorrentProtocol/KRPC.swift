import Bencode
import BitTorrentCore

/// A DHT node: 20-byte id and IPv4 endpoint (BEP 5 compact node info, 26 bytes).
public struct DHTNode: Sendable, Hashable {
    public var id: [UInt8]
    public var address: CompactPeer

    public init?(compact bytes: ArraySlice<UInt8>) {
        guard bytes.count == 26, let address = CompactPeer(bytes: Array(bytes.suffix(6))) else { return nil }
        id = Array(bytes.prefix(20))
        self.address = address
    }

    public init(id: [UInt8], address: CompactPeer) {
        self.id = id
        self.address = address
    }

    public var compact: [UInt8] { id + address.bytes }
}

/// BEP 5 KRPC messages over bencode.
public enum KRPCMessage: Sendable, Equatable {
    case ping(transaction: [UInt8], id: [UInt8])
    case findNode(transaction: [UInt8], id: [UInt8], target: [UInt8])
    case getPeers(transaction: [UInt8], id: [UInt8], infoHash: InfoHash)
    case announcePeer(transaction: [UInt8], id: [UInt8], infoHash: InfoHash, port: UInt16, token: [UInt8], impliedPort: Bool)
    /// Any response: the responder's id, nodes, peer values and token when present.
    case response(transaction: [UInt8], id: [UInt8], nodes: [DHTNode], values: [CompactPeer], token: [UInt8]?)
    case error(transaction: [UInt8], code: Int, message: String)

    public var encoded: [UInt8] {
        func query(_ t: [UInt8], _ name: String, _ args: [String: BValue]) -> [UInt8] {
            BValue.dict(["t": .bytes(t), "y": .string("q"), "q": .string(name), "a": .dict(args)]).encoded
        }
        switch self {
        case let .ping(t, id): return query(t, "ping", ["id": .bytes(id)])
        case let .findNode(t, id, target): return query(t, "find_node", ["id": .bytes(id), "target": .bytes(target)])
        case let .getPeers(t, id, hash): return query(t, "get_peers", ["id": .bytes(id), "info_hash": .bytes(hash.bytes)])
        case let .announcePeer(t, id, hash, port, token, implied):
            return query(t, "announce_peer", ["id": .bytes(id), "info_hash": .bytes(hash.bytes), "port": .integer(Int64(port)),
                                              "token": .bytes(token), "implied_port": .integer(implied ? 1 : 0)])
        case let .response(t, id, nodes, values, token):
            var r: [String: BValue] = ["id": .bytes(id)]
            if !nodes.isEmpty { r["nodes"] = .bytes(nodes.flatMap(\.compact)) }
            if !values.isEmpty { r["values"] = .list(values.map { .bytes($0.bytes) }) }
            if let token { r["token"] = .bytes(token) }
            return BValue.dict(["t": .bytes(t), "y": .string("r"), "r": .dict(r)]).encoded
        case let .error(t, code, message):
            return BValue.dict(["t": .bytes(t), "y": .string("e"), "e": .list([.integer(Int64(code)), .string(message)])]).encoded
        }
    }

    /// Decodes a datagram; anything malformed is an error (the datagram is dropped).
    public static func decode(_ datagram: [UInt8]) throws(TrackerError) -> KRPCMessage {
        var decoder = BencodeDecoder()
        decoder.maxDepth = 8
        decoder.maxItems = 512
        guard datagram.count <= 2048, let root = try? decoder.decode(datagram), let t = root["t"]?.bytes, t.count <= 16,
              let y = root["y"]?.string else { throw .malformed }
        func id(_ node: BNode?) throws(TrackerError) -> [UInt8] {
            guard let bytes = node?["id"]?.bytes, bytes.count == 20 else { throw .malformed }
            return bytes
        }
        switch y {
        case "q":
            guard let name = root["q"]?.string, let args = root["a"], args.dictionary != nil else { throw .malformed }
            let sender = try id(args)
            switch name {
            case "ping": return .ping(transaction: t, id: sender)
            case "find_node":
                guard let target = args["target"]?.bytes, target.count == 20 else { throw .malformed }
                return .findNode(transaction: t, id: sender, target: target)
            case "get_peers":
                guard let hash = args["info_hash"]?.bytes.flatMap(InfoHash.init(bytes:)) else { throw .malformed }
                return .getPeers(transaction: t, id: sender, infoHash: hash)
            case "announce_peer":
                guard let hash = args["info_hash"]?.bytes.flatMap(InfoHash.init(bytes:)), let token = args["token"]?.bytes,
                      let port = args["port"]?.integer, port > 0, port < 65536 else { throw .malformed }
                return .announcePeer(transaction: t, id: sender, infoHash: hash, port: UInt16(port), token: token,
                                     impliedPort: args["implied_port"]?.integer == 1)
            default: throw .malformed
            }
        case "r":
            guard let r = root["r"], r.dictionary != nil else { throw .malformed }
            let sender = try id(r)
            var nodes: [DHTNode] = []
            if let compact = r["nodes"]?.bytes {
                guard compact.count % 26 == 0 else { throw .malformed }
                nodes = stride(from: 0, to: compact.count, by: 26).compactMap { DHTNode(compact: compact[$0..<($0 + 26)]) }
            }
            let values = (r["values"]?.list ?? []).compactMap { $0.bytes.flatMap(CompactPeer.init(bytes:)) }
            return .response(transaction: t, id: sender, nodes: nodes, values: values, token: r["token"]?.bytes)
        case "e":
            guard let e = root["e"]?.list, e.count >= 2, let code = e[0].integer else { throw .malformed }
            return .error(transaction: t, code: Int(code), message: String((e[1].string ?? "").prefix(200)))
        default:
            throw .malformed
        }
    }
}

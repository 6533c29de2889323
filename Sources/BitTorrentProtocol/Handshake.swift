import BitTorrentCore

/// The BitTorrent handshake (BEP 3): `19 "BitTorrent protocol" reserved[8] info_hash peer_id`.
public struct Handshake: Sendable, Equatable {
    public static let length = 68
    static let protocolName = Array("BitTorrent protocol".utf8)

    public var reserved: [UInt8]
    public var infoHash: InfoHash
    public var peerID: [UInt8]

    /// Reserved bit: BEP 10 extension protocol.
    public var supportsExtensions: Bool { reserved[5] & 0x10 != 0 }
    /// Reserved bit: BEP 6 fast extension.
    public var supportsFast: Bool { reserved[7] & 0x04 != 0 }
    /// Reserved bit: BEP 5 DHT.
    public var supportsDHT: Bool { reserved[7] & 0x01 != 0 }

    /// A handshake announcing the given capabilities.
    public init(infoHash: InfoHash, peerID: [UInt8], extensions: Bool = true, fast: Bool = true, dht: Bool = false) {
        var reserved = [UInt8](repeating: 0, count: 8)
        if extensions { reserved[5] |= 0x10 }
        if fast { reserved[7] |= 0x04 }
        if dht { reserved[7] |= 0x01 }
        self.init(reserved: reserved, infoHash: infoHash, peerID: peerID)
    }

    public init(reserved: [UInt8], infoHash: InfoHash, peerID: [UInt8]) {
        precondition(reserved.count == 8 && peerID.count == 20)
        self.reserved = reserved
        self.infoHash = infoHash
        self.peerID = peerID
    }

    public var encoded: [UInt8] {
        [19] + Self.protocolName + reserved + infoHash.bytes + peerID
    }

    /// Decodes a handshake from exactly 68 bytes.
    public static func decode(_ bytes: ArraySlice<UInt8>) throws(PeerWireError) -> Handshake {
        guard bytes.count == length else { throw .truncated }
        let b = Array(bytes)
        guard b[0] == 19, Array(b[1..<20]) == protocolName else { throw .badHandshake }
        guard let hash = InfoHash(bytes: Array(b[28..<48])) else { throw .badHandshake }
        return Handshake(reserved: Array(b[20..<28]), infoHash: hash, peerID: Array(b[48..<68]))
    }
}

/// Peer-wire decoding failures. Each means "close the connection".
public enum PeerWireError: Error, Equatable, Sendable {
    case truncated
    case badHandshake
    /// A length prefix over the limit (checked before allocating).
    case messageTooLong(Int)
    /// A known message with the wrong payload size.
    case badLength(id: UInt8, length: Int)
    case unknownMessage(UInt8)
    case badExtendedPayload
}

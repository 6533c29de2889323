import BitTorrentCore

/// BEP 15 UDP tracker packets. Transaction ids are chosen by the caller (randomness is a
/// parameter) and checked on every response.
public enum UDPTracker {
    static let protocolID: UInt64 = 0x417_2710_1980

    public static func connectRequest(transactionID: UInt32) -> [UInt8] {
        be64(protocolID) + be32(0) + be32(transactionID)
    }

    /// The connection id of a connect response.
    public static func parseConnect(_ packet: [UInt8], transactionID: UInt32) throws(TrackerError) -> UInt64 {
        try header(packet, action: 0, transactionID: transactionID, minimum: 16)
        return readBE64(packet, at: 8)
    }

    public static func announceRequest(connectionID: UInt64, transactionID: UInt32, _ request: AnnounceRequest) -> [UInt8] {
        let event: UInt32
        switch request.event {
        case .none: event = 0
        case .completed: event = 1
        case .started: event = 2
        case .stopped: event = 3
        }
        return be64(connectionID) + be32(1) + be32(transactionID) + request.infoHash.bytes + request.peerID
            + be64(UInt64(bitPattern: request.downloaded)) + be64(UInt64(bitPattern: request.left)) + be64(UInt64(bitPattern: request.uploaded))
            + be32(event) + be32(0) + be32(request.key) + be32(UInt32(bitPattern: Int32(request.numWant))) + [UInt8(request.port >> 8), UInt8(request.port & 0xff)]
    }

    public static func parseAnnounce(_ packet: [UInt8], transactionID: UInt32) throws(TrackerError) -> AnnounceResponse {
        try header(packet, action: 1, transactionID: transactionID, minimum: 20)
        let peerBytes = packet.count - 20
        guard peerBytes % 6 == 0 else { throw .malformed }
        let peers = stride(from: 20, to: packet.count, by: 6).compactMap { CompactPeer(bytes: Array(packet[$0..<($0 + 6)]))?.description }
        let interval = Int(readBE32(packet[...], at: 8))
        guard interval > 0 else { throw .malformed }
        return AnnounceResponse(interval: interval, minInterval: nil, seeders: Int(readBE32(packet[...], at: 16)),
                                leechers: Int(readBE32(packet[...], at: 12)), peers: peers)
    }

    public static func scrapeRequest(connectionID: UInt64, transactionID: UInt32, infoHashes: [InfoHash]) -> [UInt8] {
        be64(connectionID) + be32(2) + be32(transactionID) + infoHashes.prefix(74).flatMap(\.bytes)
    }

    public static func parseScrape(_ packet: [UInt8], transactionID: UInt32, infoHashes: [InfoHash]) throws(TrackerError)
        -> [InfoHash: (seeders: Int, leechers: Int, completed: Int)] {
        try header(packet, action: 2, transactionID: transactionID, minimum: 8)
        guard (packet.count - 8) % 12 == 0, (packet.count - 8) / 12 <= infoHashes.count else { throw .malformed }
        var result: [InfoHash: (Int, Int, Int)] = [:]
        for (index, offset) in stride(from: 8, to: packet.count, by: 12).enumerated() {
            result[infoHashes[index]] = (Int(readBE32(packet[...], at: offset)), Int(readBE32(packet[...], at: offset + 8)),
                                         Int(readBE32(packet[...], at: offset + 4)))
        }
        return result
    }

    /// Checks action and transaction id; an error packet (action 3) becomes `.failure`.
    static func header(_ packet: [UInt8], action: UInt32, transactionID: UInt32, minimum: Int) throws(TrackerError) {
        guard packet.count >= 8 else { throw .malformed }
        guard readBE32(packet[...], at: 4) == transactionID else { throw .transactionMismatch }
        let got = readBE32(packet[...], at: 0)
        if got == 3 { throw .failure(String(decoding: packet[8...].prefix(200), as: UTF8.self)) }
        guard got == action, packet.count >= minimum else { throw .malformed }
    }
}

func be64(_ value: UInt64) -> [UInt8] { be32(UInt32(value >> 32)) + be32(UInt32(value & 0xffff_ffff)) }
func readBE64(_ bytes: [UInt8], at offset: Int) -> UInt64 { UInt64(readBE32(bytes[...], at: offset)) << 32 | UInt64(readBE32(bytes[...], at: offset + 4)) }

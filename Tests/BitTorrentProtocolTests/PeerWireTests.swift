import Bencode
import BitTorrentCore
import Foundation
import Testing
@testable import BitTorrentProtocol

let peerFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
let goldenHash = InfoHash(hex: "2a46e81493f3181e7826d0f6022dfc4e3729455d")!

/// Decodes a whole stream fed in two parts split at `cut`.
func decodeStream(_ bytes: [UInt8], cut: Int, handshake: Bool = true) throws -> (Handshake?, [PeerMessage]) {
    var decoder = PeerWireDecoder(expectHandshake: handshake)
    var messages: [PeerMessage] = []
    var shake: Handshake?
    for part in [Array(bytes[..<cut]), Array(bytes[cut...])] {
        decoder.feed(part)
        if decoder.awaitingHandshake { shake = try decoder.handshake() ?? shake }
        if !decoder.awaitingHandshake { while let message = try decoder.next() { messages.append(message) } }
    }
    return (shake, messages)
}

@Suite struct GoldenPeerTests {
    /// Bytes a real libtorrent 2.1 seed sent us on loopback (scripts/capture-peer-fixtures.py).
    @Test func libtorrentsHandshakeAndExtendedHandshakeAtEverySplitPoint() throws {
        let bytes = Array(try Data(contentsOf: peerFixtures.appendingPathComponent("libtorrent-handshake.bin")))
        var reference: [PeerMessage]?
        for cut in 0...bytes.count {
            let (shake, messages) = try decodeStream(bytes, cut: cut)
            #expect(shake?.infoHash == goldenHash)
            #expect(shake?.supportsExtensions == true && shake?.supportsFast == true)
            if let reference { #expect(messages == reference, "split at \(cut)") } else { reference = messages }
        }
        let messages = try #require(reference)
        guard case let .extended(id: 0, payload: payload) = messages.first else { Issue.record("first message is the extended handshake"); return }
        let extended = try ExtendedHandshake.decode(payload)
        #expect(extended.extensions["ut_metadata"] == 2 && extended.extensions["ut_pex"] != nil)
        #expect(extended.metadataSize != nil)
        #expect(messages.contains(.haveAll) || messages.contains { if case .bitfield = $0 { true } else { false } })
    }

    @Test func libtorrentsMetadataPieceIsTheInfoDictionary() throws {
        let bytes = Array(try Data(contentsOf: peerFixtures.appendingPathComponent("libtorrent-metadata.bin")))
        let (_, messages) = try decodeStream(bytes, cut: bytes.count / 2, handshake: false)
        let data = messages.compactMap { message -> MetadataMessage? in
            guard case let .extended(id, payload) = message, id != 0 else { return nil }
            return try? MetadataMessage.decode(payload)
        }.first
        guard case let .data(piece: 0, totalSize: total, bytes: info) = data else { Issue.record("no metadata piece: \(messages)"); return }
        #expect(info.count == total)
        let torrentBytes = Array(try Data(contentsOf: peerFixtures.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("BitTorrentCoreTests/Fixtures/mktorrent-single.torrent")))
        let infoNode = try #require(try BencodeDecoder().decode(torrentBytes)["info"])
        #expect(Array(torrentBytes[infoNode.range]) == info, "the peer sent exactly our raw info dictionary")
    }
}

@Suite struct PeerMessageRoundTripTests {
    static let all: [PeerMessage] = [
        .keepAlive, .choke, .unchoke, .interested, .notInterested, .have(piece: 7), .bitfield([0xff, 0x80]),
        .request(piece: 1, begin: 16384, length: 16384), .piece(piece: 2, begin: 0, block: [1, 2, 3]),
        .cancel(piece: 1, begin: 0, length: 16384), .port(6881), .suggest(piece: 3), .haveAll, .haveNone,
        .reject(piece: 4, begin: 0, length: 16384), .allowedFast(piece: 5), .extended(id: 3, payload: Array("d1:ai1ee".utf8)),
    ]

    @Test func everyMessageRoundTripsAndEverySplitPointOfTheStreamDecodesTheSame() throws {
        let handshake = Handshake(infoHash: goldenHash, peerID: Array("-MF0001-abcdefghijkl".utf8), dht: true)
        let stream = handshake.encoded + Self.all.flatMap(\.encoded)
        for cut in 0...stream.count {
            let (shake, messages) = try decodeStream(stream, cut: cut)
            #expect(shake == handshake)
            #expect(messages == Self.all, "split at \(cut)")
        }
        #expect(handshake.supportsDHT && handshake.supportsFast && handshake.supportsExtensions)
    }

    @Test func extensionPayloadsRoundTrip() throws {
        let extended = ExtendedHandshake(extensions: ["ut_metadata": 3, "ut_pex": 1], metadataSize: 12345, client: "Miauflix", listenPort: 6881, requestQueue: 250)
        #expect(try ExtendedHandshake.decode(extended.encoded) == extended)
        for message in [MetadataMessage.request(piece: 2), .reject(piece: 1), .data(piece: 0, totalSize: 5, bytes: [1, 2, 3, 4, 5])] {
            #expect(try MetadataMessage.decode(message.encoded) == message)
        }
        let pex = PexMessage(added: [CompactPeer(ip: (127, 0, 0, 2), port: 6881)], dropped: [CompactPeer(ip: (10, 0, 0, 1), port: 1)])
        #expect(try PexMessage.decode(pex.encoded) == pex)
        #expect(CompactPeer(address: "10.0.0.1:6881") == CompactPeer(ip: (10, 0, 0, 1), port: 6881))
        for bad in ["1..2.3:1", "1.2.3:1", "1.2.3.256:1", "1.2.3.4.5:1", "::1:80", "host:1", "1.2.3.4:70000", "1.2.3.+4:1", "1.2.3.4"] {
            #expect(CompactPeer(address: bad) == nil, "\(bad)")
        }
        // Flags travel with their peers; a flags string of the wrong length is ignored.
        let flagged = PexMessage(added: [CompactPeer(ip: (127, 0, 0, 2), port: 6881), CompactPeer(ip: (127, 0, 0, 3), port: 6882)],
                                 addedFlags: [PexMessage.seed | PexMessage.reachable, PexMessage.prefersEncryption], dropped: [])
        #expect(try PexMessage.decode(flagged.encoded).addedFlags == [0x12, 0x01])
        let mismatched = try PexMessage.decode(Array("d5:added6:\u{7f}\u{0}\u{0}\u{1}\u{1a}a7:added.f2:xxe".utf8))
        #expect(mismatched.added.count == 1 && mismatched.addedFlags == [0])
        #expect(pex.added[0].description == "127.0.0.2:6881")
    }
}

@Suite struct HostilePeerTests {
    @Test func hugeLengthPrefixIsRefusedBeforeBuffering() {
        var decoder = PeerWireDecoder(expectHandshake: false)
        decoder.feed([0xff, 0xff, 0xff, 0xff, 7])
        #expect(throws: PeerWireError.messageTooLong(Int(UInt32.max))) { try decoder.next() }
    }

    @Test func wrongSizesAndUnknownIDs() {
        for (body, expected) in [([UInt8]([4, 0, 0]), PeerWireError.badLength(id: 4, length: 3)), ([0, 1], .badLength(id: 0, length: 2)),
                                 ([6, 0, 0, 0, 1], .badLength(id: 6, length: 5)), ([7, 0, 0], .badLength(id: 7, length: 3)),
                                 ([99], .unknownMessage(99)), ([20], .badLength(id: 20, length: 1))] {
            var decoder = PeerWireDecoder(expectHandshake: false)
            decoder.feed(be32(UInt32(body.count)) + body)
            #expect(throws: expected) { try decoder.next() }
        }
    }

    @Test func badHandshakesAreRefusedEarly() {
        var decoder = PeerWireDecoder()
        decoder.feed([18])
        #expect(throws: PeerWireError.badHandshake) { try decoder.handshake() }
        var wrongName = PeerWireDecoder()
        wrongName.feed([19] + Array("BitTorrent protocoX".utf8) + [UInt8](repeating: 0, count: 48))
        #expect(throws: PeerWireError.badHandshake) { try wrongName.handshake() }
    }

    @Test func hostileExtensionPayloads() {
        #expect(throws: PeerWireError.self) { try ExtendedHandshake.decode(Array("not bencode".utf8)) }
        #expect(throws: PeerWireError.self) { try MetadataMessage.decode(Array("d8:msg_typei1e5:piecei0e10:total_sizei999999999999ee".utf8)) }
        #expect(throws: PeerWireError.self) { try MetadataMessage.decode(Array("d8:msg_typei9e5:piecei0ee".utf8)) }
        #expect(throws: PeerWireError.self) { try PexMessage.decode(Array("d5:added5:abcdee".utf8)) }
        let weird = try? ExtendedHandshake.decode(Array("d1:md3:badi-1e4:hugei99999ee13:metadata_sizei-5ee".utf8))
        #expect(weird?.extensions.isEmpty == true && weird?.metadataSize == nil, "nonsense values are dropped, not trusted")
    }
}

import Bencode
import BitTorrentCore
import Testing
@testable import BitTorrentProtocol

@Suite struct HTTPTrackerTests {
    let request = AnnounceRequest(infoHash: goldenHash, peerID: Array("-MF0001-abcdefghijkl".utf8), port: 6881, left: 1000,
                                  event: .started, numWant: 30, key: 0xabc)

    @Test func announceURLEncodesBinaryFieldsByteByByte() {
        let url = HTTPTracker.announceURL("http://127.0.0.1:6969/announce", request)
        #expect(url.hasPrefix("http://127.0.0.1:6969/announce?info_hash=%2AF%E8%14%93%F3%18%1Ex%26%D0%F6%02-%FCN7%29E%5D&peer_id=-MF0001-abcdefghijkl"))
        #expect(url.contains("&left=1000&compact=1&numwant=30&key=abc&event=started"))
        #expect(HTTPTracker.announceURL("http://t/a?passkey=x", request).contains("/a?passkey=x&info_hash="))
    }

    @Test func scrapeURLConvention() {
        #expect(HTTPTracker.scrapeURL("http://t:1/announce", infoHashes: [goldenHash])?.hasPrefix("http://t:1/scrape?info_hash=%2AF") == true)
        #expect(HTTPTracker.scrapeURL("http://t/x/announce.php?k=1", infoHashes: [goldenHash])?.hasPrefix("http://t/x/scrape.php?k=1&info_hash=") == true)
        #expect(HTTPTracker.scrapeURL("http://t/a", infoHashes: [goldenHash]) == nil)
    }

    @Test func compactAndDictionaryPeers() throws {
        let compact = BValue.dict(["interval": .integer(1800), "complete": .integer(3), "incomplete": .integer(4),
                                   "peers": .bytes([127, 0, 0, 1, 0x1a, 0xe1, 10, 0, 0, 2, 0, 80])]).encoded
        let parsed = try HTTPTracker.parseAnnounce(compact)
        #expect(parsed.peers == ["127.0.0.1:6881", "10.0.0.2:80"] && parsed.interval == 1800 && parsed.seeders == 3)
        let dictionary = BValue.dict(["interval": .integer(60), "peers": .list([.dict(["ip": .string("::1"), "port": .integer(5)]),
                                                                               .dict(["ip": .string("1.2.3.4"), "port": .integer(99999)])])]).encoded
        #expect(try HTTPTracker.parseAnnounce(dictionary).peers == ["[::1]:5"], "invalid port dropped")
        #expect(throws: TrackerError.failure("torrent not registered")) {
            try HTTPTracker.parseAnnounce(BValue.dict(["failure reason": .string("torrent not registered")]).encoded)
        }
        #expect(throws: TrackerError.malformed) { try HTTPTracker.parseAnnounce(BValue.dict(["interval": .integer(10), "peers": .bytes([1, 2, 3])]).encoded) }
        #expect(throws: TrackerError.malformed) { try HTTPTracker.parseAnnounce(Array("<html>".utf8)) }
    }

    @Test func scrape() throws {
        let body = BValue.dictionary([Array("files".utf8): .dictionary([goldenHash.bytes: .dict(["complete": .integer(5), "incomplete": .integer(2), "downloaded": .integer(40)])])]).encoded
        let stats = try HTTPTracker.parseScrape(body)
        #expect(stats[goldenHash]?.seeders == 5 && stats[goldenHash]?.leechers == 2 && stats[goldenHash]?.completed == 40)
    }
}

@Suite struct UDPTrackerTests {
    @Test func connectAnnounceScrape() throws {
        let connect = UDPTracker.connectRequest(transactionID: 0x1234)
        #expect(connect == [0, 0, 4, 0x17, 0x27, 0x10, 0x19, 0x80, 0, 0, 0, 0, 0, 0, 0x12, 0x34], "BEP 15 magic constant")
        let connectionID = try UDPTracker.parseConnect([0, 0, 0, 0, 0, 0, 0x12, 0x34, 1, 2, 3, 4, 5, 6, 7, 8], transactionID: 0x1234)
        #expect(connectionID == 0x0102_0304_0506_0708)
        let request = AnnounceRequest(infoHash: goldenHash, peerID: Array("-MF0001-abcdefghijkl".utf8), port: 6881, left: 5, event: .started)
        let announce = UDPTracker.announceRequest(connectionID: connectionID, transactionID: 9, request)
        #expect(announce.count == 98)
        let response = [0, 0, 0, 1, 0, 0, 0, 9, 0, 0, 0x07, 0x08, 0, 0, 0, 2, 0, 0, 0, 5] + [127, 0, 0, 1, 0x1a, 0xe1] as [UInt8]
        let parsed = try UDPTracker.parseAnnounce(response, transactionID: 9)
        #expect(parsed.interval == 1800 && parsed.leechers == 2 && parsed.seeders == 5 && parsed.peers == ["127.0.0.1:6881"])
        #expect(throws: TrackerError.transactionMismatch) { try UDPTracker.parseAnnounce(response, transactionID: 10) }
        #expect(throws: TrackerError.failure("denied")) { try UDPTracker.parseConnect([0, 0, 0, 3, 0, 0, 0x12, 0x34] + Array("denied".utf8), transactionID: 0x1234) }
        #expect(throws: TrackerError.malformed) { try UDPTracker.parseAnnounce(Array(response.dropLast()), transactionID: 9) }
        let scrape = try UDPTracker.parseScrape([0, 0, 0, 2, 0, 0, 0, 1] + [0, 0, 0, 7, 0, 0, 0, 50, 0, 0, 0, 3], transactionID: 1, infoHashes: [goldenHash])
        #expect(scrape[goldenHash]?.seeders == 7 && scrape[goldenHash]?.completed == 50 && scrape[goldenHash]?.leechers == 3)
        for cut in 0..<response.count where cut != 20 {
            #expect(throws: TrackerError.self, "cut \(cut)") { try UDPTracker.parseAnnounce(Array(response[..<cut]), transactionID: 9) }
        }
        #expect(try UDPTracker.parseAnnounce(Array(response[..<20]), transactionID: 9).peers.isEmpty, "a header alone is a valid empty answer")
    }
}

@Suite struct KRPCTests {
    let id = Array("abcdefghij0123456789".utf8)

    /// The examples of BEP 5 itself.
    @Test func bep5Examples() throws {
        let ping = Array("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe".utf8)
        #expect(try KRPCMessage.decode(ping) == .ping(transaction: Array("aa".utf8), id: id))
        #expect(KRPCMessage.ping(transaction: Array("aa".utf8), id: id).encoded == ping)
        let error = Array("d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee".utf8)
        #expect(try KRPCMessage.decode(error) == .error(transaction: Array("aa".utf8), code: 201, message: "A Generic Error Ocurred"))
        let getPeers = Array("d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q9:get_peers1:t2:aa1:y1:qe".utf8)
        guard case let .getPeers(_, _, hash) = try KRPCMessage.decode(getPeers) else { Issue.record("get_peers"); return }
        #expect(hash.bytes == Array("mnopqrstuvwxyz123456".utf8))
    }

    @Test func roundTrips() throws {
        let node = DHTNode(id: Array(repeating: 7, count: 20), address: CompactPeer(ip: (198, 51, 100, 7), port: 6881))
        let messages: [KRPCMessage] = [
            .findNode(transaction: [1, 2], id: id, target: Array(repeating: 9, count: 20)),
            .announcePeer(transaction: [3], id: id, infoHash: goldenHash, port: 6881, token: [1, 2, 3], impliedPort: true),
            .response(transaction: [4], id: id, nodes: [node], values: [CompactPeer(ip: (127, 0, 0, 1), port: 1)], token: [9]),
        ]
        for message in messages { #expect(try KRPCMessage.decode(message.encoded) == message) }
    }

    @Test func hostileDatagrams() {
        for bad in ["d1:t2:aa1:y1:qe", "d1:ad2:id3:abce1:q4:ping1:t2:aa1:y1:qe", "d1:rd2:id20:abcdefghij01234567895:nodes3:abce1:t1:a1:y1:re",
                    "garbage", "d1:t17:aaaaaaaaaaaaaaaaa1:y1:qe"] {
            #expect(throws: TrackerError.self, "\(bad)") { try KRPCMessage.decode(Array(bad.utf8)) }
        }
        #expect(throws: TrackerError.self) { try KRPCMessage.decode([UInt8](repeating: 0x6c, count: 4000)) }
    }
}

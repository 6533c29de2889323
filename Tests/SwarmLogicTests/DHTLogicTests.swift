import BitTorrentProtocol
import Testing
@testable import SwarmLogic

/// The DHT's pure parts: XOR metric, routing table bounds and liveness, iterative lookups
/// over a simulated network, tokens, the announced-peer store and inbound query limits.
@Suite struct DHTLogicTests {
    /// A deterministic generator (SplitMix64) so every run sees the same network.
    struct Seeded: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func id(_ random: inout Seeded) -> [UInt8] { (0..<20).map { _ in UInt8.random(in: 0...255, using: &random) } }

    static func node(_ index: Int, id: [UInt8]) -> DHTNode {
        DHTNode(id: id, address: CompactPeer(ip: (10, UInt8(index >> 16 & 0xff), UInt8(index >> 8 & 0xff), UInt8(index & 0xff)), port: 6881))
    }

    @Test func idsInABucketShareExactlyItsPrefix() {
        var random = Seeded(state: 1)
        let own = Self.id(&random)
        for prefix in 0..<160 {
            let id = DHTDistance.id(sharing: prefix, with: own, random: Self.id(&random))
            #expect(DHTDistance.sharedPrefix(own, id) == prefix)
        }
        #expect(DHTDistance.sharedPrefix(own, own) == 160)
    }

    @Test func theTableStaysBoundedAndAnswersTheTrueClosest() {
        var random = Seeded(state: 2)
        var table = DHTRoutingTable(ownID: Self.id(&random), now: 0)
        var all: [DHTNode] = []
        for i in 0..<5_000 {
            let node = Self.node(i, id: Self.id(&random))
            all.append(node)
            table.heard(node, responded: true, now: 1)
        }
        #expect(table.count <= 160 * DHTRoutingTable.k)
        #expect(table.buckets.allSatisfy { $0.count <= DHTRoutingTable.k })
        // Random ids fill the shallow buckets: each of the first few is full.
        #expect(table.buckets[0].count == DHTRoutingTable.k && table.buckets[3].count == DHTRoutingTable.k)
        let target = Self.id(&random)
        let expected = DHTNode.sorted(table.nodes, by: target).prefix(8)
        #expect(table.closest(to: target) == Array(expected))
        // Our own id, all-zero ids and wrong lengths never enter.
        table.heard(DHTNode(id: table.ownID, address: Self.node(9_999, id: []).address), responded: true, now: 1)
        table.heard(DHTNode(id: [UInt8](repeating: 0, count: 20), address: Self.node(9_998, id: []).address), responded: true, now: 1)
        #expect(!table.nodes.contains { $0.id == table.ownID || $0.id.allSatisfy { $0 == 0 } })
    }

    @Test func aFullBucketKeepsGoodNodesAndReplacesBadOrStaleOnes() {
        var random = Seeded(state: 3)
        let own = Self.id(&random)
        var table = DHTRoutingTable(ownID: own, now: 0)
        let members = (0..<8).map { Self.node($0, id: DHTDistance.id(sharing: 0, with: own, random: Self.id(&random))) }
        for node in members { table.heard(node, responded: true, now: 10) }
        let newcomer = Self.node(100, id: DHTDistance.id(sharing: 0, with: own, random: Self.id(&random)))
        table.heard(newcomer, responded: true, now: 20)
        #expect(!table.nodes.contains(newcomer), "a bucket of good nodes refuses newcomers")
        table.failed(members[3].address)
        table.failed(members[3].address)
        table.heard(newcomer, responded: true, now: 21)
        #expect(table.nodes.contains(newcomer) && !table.nodes.contains(members[3]), "a node that missed two queries is replaced")
        // Stale (not heard for 15 minutes) nodes give way to a node that answered.
        let later = Self.node(101, id: DHTDistance.id(sharing: 0, with: own, random: Self.id(&random)))
        table.heard(later, responded: true, now: 10 + 16 * 60)
        #expect(table.nodes.contains(later))
        // A node that only queried us cannot push out a verified one.
        var fresh = DHTRoutingTable(ownID: own, now: 0)
        for node in members { fresh.heard(node, responded: true, now: 10) }
        fresh.heard(Self.node(102, id: DHTDistance.id(sharing: 0, with: own, random: Self.id(&random))), responded: false, now: 10 + 16 * 60)
        #expect(fresh.nodes == members)
        // Queriers count as nodes but not as verified ones (the bootstrap goes on until 8 answer).
        var flooded = DHTRoutingTable(ownID: own, now: 0)
        for i in 0..<50 { flooded.heard(Self.node(200 + i, id: Self.id(&random)), responded: false, now: 1) }
        #expect(flooded.count > 8 && flooded.verifiedCount == 0)
        #expect(fresh.staleBuckets(now: 10 + 16 * 60).contains(0))
    }

    /// A simulated network of 300 nodes; each knows 30 random others and its own 8 closest
    /// neighbours (what a converged DHT looks like) and answers with the 8 it knows closest
    /// to the target. Three of the target's 8 closest nodes hold a peer for it.
    @Test func aLookupConvergesOnTheClosestNodesAndCollectsTheirPeers() {
        var random = Seeded(state: 4)
        let network = (0..<300).map { Self.node($0, id: Self.id(&random)) }
        var known: [CompactPeer: [DHTNode]] = [:]
        for node in network {
            let neighbours = Array(DHTNode.sorted(network, by: node.id).dropFirst().prefix(8))
            known[node.address] = neighbours + (0..<30).map { _ in network[Int.random(in: 0..<300, using: &random)] }
        }
        let target = Self.id(&random)
        let truth = Array(DHTNode.sorted(network, by: target).prefix(8))
        let holders = Set(truth.prefix(3).map(\.address))
        let peer = CompactPeer(ip: (192, 0, 2, 1), port: 51413)
        var lookup = DHTLookup(target: target, kind: .getPeers, seeds: Array(network.shuffled(using: &random).prefix(3)))
        var rounds = 0
        var found: [CompactPeer] = []
        while !lookup.isDone && rounds < 200 {
            rounds += 1
            let asked = lookup.next(now: Double(rounds))
            #expect(asked.count <= 3, "alpha bounds the queries in flight")
            for node in asked {
                let answer = Array(DHTNode.sorted(known[node.address]!, by: target).prefix(8))
                let values = holders.contains(node.address) ? [peer] : []
                found += lookup.answered(by: node.address, nodes: answer, values: values, token: [UInt8(rounds)])
            }
        }
        #expect(lookup.isDone)
        #expect(found == [peer], "the peer is reported once, as soon as it is found")
        #expect(Set(lookup.announceTargets.map(\.node)) == Set(truth), "announces go to the 8 truly closest")
        #expect(lookup.queriesSent < 80)
    }

    @Test func unansweredQueriesExpireAndTheLookupEnds() {
        var random = Seeded(state: 5)
        let silent = (0..<5).map { Self.node($0, id: Self.id(&random)) }
        var lookup = DHTLookup(target: Self.id(&random), kind: .findNode, seeds: silent)
        #expect(lookup.next(now: 0).count == 3)
        #expect(!lookup.isDone)
        #expect(lookup.expire(now: 2.9, timeout: 3).isEmpty)
        #expect(lookup.expire(now: 3, timeout: 3).count == 3)
        #expect(lookup.next(now: 3).count == 2)
        _ = lookup.expire(now: 6, timeout: 3)
        #expect(lookup.isDone && lookup.announceTargets.isEmpty)
        // An answer from an address never asked is ignored.
        #expect(lookup.answered(by: CompactPeer(ip: (1, 2, 3, 4), port: 1), nodes: [], values: [CompactPeer(ip: (5, 6, 7, 8), port: 9)], token: nil).isEmpty)
    }

    @Test func aLookupKeepsAtMostItsCapacityOfCandidates() {
        var random = Seeded(state: 6)
        var lookup = DHTLookup(target: Self.id(&random), kind: .getPeers, seeds: (0..<10).map { Self.node($0, id: Self.id(&random)) })
        for node in lookup.next(now: 0) {
            _ = lookup.answered(by: node.address, nodes: (0..<1_000).map { Self.node(1_000 + $0, id: Self.id(&random)) },
                                values: (0..<1_000).map { CompactPeer(ip: (10, 9, UInt8($0 >> 8), UInt8($0 & 0xff)), port: 1) }, token: nil)
        }
        #expect(lookup.candidates.count <= lookup.capacity)
        #expect(lookup.peers.count <= lookup.peerCapacity)
    }

    @Test func tokensAreBoundToTheIPAndLiveTwoRotations() {
        let hash: @Sendable ([UInt8]) -> [UInt8] = { bytes in
            // Any keyed function will do for the logic: FNV-1a, 8 bytes.
            var h: UInt64 = 0xcbf29ce484222325
            for b in bytes { h = (h ^ UInt64(b)) &* 0x100000001b3 }
            return (0..<8).map { UInt8(h >> (8 * UInt64($0)) & 0xff) }
        }
        var tokens = DHTTokens(secret: [1, 2, 3], now: 0, hash: hash)
        let token = tokens.token(for: [10, 0, 0, 1])
        #expect(tokens.isValid(token, for: [10, 0, 0, 1]))
        #expect(!tokens.isValid(token, for: [10, 0, 0, 2]))
        tokens.rotateIfDue(now: 100, secret: [4, 5, 6])
        #expect(tokens.token(for: [10, 0, 0, 1]) == token, "not due yet")
        tokens.rotateIfDue(now: 300, secret: [4, 5, 6])
        #expect(tokens.isValid(token, for: [10, 0, 0, 1]), "the previous secret still counts")
        tokens.rotateIfDue(now: 600, secret: [7, 8, 9])
        #expect(!tokens.isValid(token, for: [10, 0, 0, 1]), "two rotations later it is gone")
    }

    @Test func thePeerStoreIsBoundedAndForgets() {
        var store = DHTPeerStore()
        store.peersPerHash = 10
        store.hashCapacity = 3
        let hash = [UInt8](repeating: 7, count: 20)
        for i in 0..<50 { store.add(CompactPeer(ip: (10, 0, 0, UInt8(i)), port: 1), for: hash, now: Double(i)) }
        let kept = store.peers(for: hash, now: 50)
        #expect(kept.count == 10)
        #expect(kept.allSatisfy { $0.bytes[3] >= 40 }, "the newest announcements are kept")
        for h in 0..<10 { store.add(CompactPeer(ip: (10, 0, 0, 1), port: 1), for: [UInt8](repeating: UInt8(h), count: 20), now: 1) }
        #expect(store.hashCount == 3)
        #expect(store.peers(for: hash, now: 50 + 31 * 60).isEmpty, "announcements expire after 30 minutes")
        store.expire(now: 50 + 31 * 60)
        #expect(store.hashCount == 0)
    }

    @Test func inboundQueriesAreLimitedPerIPAndInTotal() {
        var limiter = DHTQueryLimiter()
        let ip: [UInt8] = [10, 0, 0, 1]
        var allowed = 0
        for _ in 0..<1_000 where limiter.allow(ip: ip, now: 1) { allowed += 1 }
        #expect(allowed == 40, "one IP gets its burst, then nothing")
        let other = limiter.allow(ip: [10, 0, 0, 2], now: 1)
        #expect(other, "another IP is not affected")
        let refilled = limiter.allow(ip: ip, now: 2)
        #expect(refilled, "a second later the bucket has refilled")
        var flood = DHTQueryLimiter()
        var total = 0
        for i in 0..<20_000 where flood.allow(ip: [10, UInt8(i >> 16 & 0xff), UInt8(i >> 8 & 0xff), UInt8(i & 0xff)], now: 5) { total += 1 }
        #expect(total <= 500, "the global ceiling holds against many IPs")
    }
}

import BitTorrentCore
import BitTorrentProtocol
import NIOCore
import SwarmLogic

/// Where a torrent's peers come from: trackers, the DHT and peer exchange.
extension Torrent {
    // MARK: Trackers

    func announceRequest(_ event: AnnounceEvent) -> AnnounceRequest {
        let left = metainfo.totalLength - min(metainfo.totalLength, Int64(picker.have.setCount) * Int64(geometry.pieceLength))
        return AnnounceRequest(infoHash: metainfo.infoHash, peerID: engine.peerID, port: UInt16(clamping: engine.listenPort),
                               uploaded: uploadedBytes, downloaded: downloadedBytes, left: picker.have.isComplete ? 0 : left,
                               event: event, numWant: 80, key: 0x4d46)
    }

    /// Announces to every tier; peers found are dialled at once.
    func announce(_ event: AnnounceEvent) {
        // The kill switch: no tracker traffic while the VPN is down.
        guard engine.networkAllowed else { return }
        announcer.announce(announceRequest(event), fewPeers: peers.count < 5) { [self] found in
            let added = found.filter { book.add($0) }.count
            engine.logger.info("tracker announce", metadata: ["event": "tracker_announce", "source": "\(sourceId)",
                                                              "kind": "\(event.rawValue.isEmpty ? "interval" : event.rawValue)",
                                                              "new_peers": "\(added)", "error": "\(announcer.lastError ?? "none")"])
            if event != .stopped { connectMore(now: now) }
        }
    }

    // MARK: Peer exchange (BEP 11)

    /// Tells each `ut_pex` peer, at most once a minute, who joined and left the swarm.
    func exchangePeers(now: Double) {
        var flags: [String: UInt8] = [:]
        for peer in peers.values {
            guard let address = peer.listenAddress else { continue }
            var flag: UInt8 = 0
            if peer.has.count > 0 && peer.has.isComplete { flag |= PexMessage.seed }
            if peer.outgoing { flag |= PexMessage.reachable }
            if peer.encrypted { flag |= PexMessage.prefersEncryption }
            flags[address] = flag
        }
        for peer in peers.values {
            guard let id = peer.extensionIDs["ut_pex"] else { continue }
            let others = Set(flags.keys).subtracting([peer.listenAddress ?? peer.address])
            guard let change = peer.pex.next(connected: others, now: now) else { continue }
            let added = change.added.compactMap { address in CompactPeer(address: address).map { (address, $0) } }
            let message = PexMessage(added: added.map(\.1), addedFlags: added.map { flags[$0.0] ?? 0 },
                                     dropped: change.dropped.compactMap { CompactPeer(address: $0) })
            peer.send(.extended(id: id, payload: message.encoded))
        }
    }

    // MARK: DHT

    /// A `get_peers` lookup for our info-hash; peers are dialled as they are found and we
    /// announce ourselves where it ends. Again in 15 s while no peer is connected, in 5
    /// minutes while the swarm is thin, else in 15 (announcements live 30 minutes).
    func searchDHT() {
        guard let dht = engine.dht, engine.networkAllowed, !stopped else { return }
        nextDHTSearch = now + (peers.isEmpty && !picker.have.isComplete ? 15 : peers.count < 5 ? 300 : 900)
        let port = UInt16(clamping: engine.listenPort)
        dht.findPeers(infoHash, announcePort: port == 0 ? nil : port) { [self] found in
            let added = found.filter { book.add($0) }.count
            if added > 0 { connectMore(now: now) }
        }
    }
}

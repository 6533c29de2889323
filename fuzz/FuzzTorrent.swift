// libFuzzer target: bencode, metainfo, magnet and peer-wire decoders on arbitrary bytes must never crash,
// hang or accept a path that escapes the download folder. Built by fuzz/run.sh into one
// module with Sources/Bencode and Sources/BitTorrentCore.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTorrent(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let node = try? BencodeDecoder().decode(bytes) {
        precondition(node.range == 0..<bytes.count)
        // Canonical input re-encodes to itself.
        precondition(node.value.encoded == bytes, "strict decoder accepted non-canonical bencode")
    }
    _ = try? BencodeDecoder().decodePrefix(bytes)
    // A cheap stand-in hash: the fuzzer explores parsing, not SHA-1.
    let fakeHash: ([UInt8]) -> [UInt8] = { input in
        var out = [UInt8](repeating: 0, count: 20)
        for (i, byte) in input.enumerated() { out[i % 20] &+= byte }
        return out
    }
    if let metainfo = try? Metainfo.parse(bytes, sha1: fakeHash) {
        for file in metainfo.files {
            for component in file.path {
                precondition(component != ".." && component != "." && !component.isEmpty && !component.contains("/"), "unsafe path")
            }
        }
    }
    _ = try? Magnet.parse(String(decoding: bytes, as: UTF8.self))
    // Peer wire: the same bytes as a stream, fed in two parts split by the first byte.
    var decoder = PeerWireDecoder(expectHandshake: bytes.first.map { $0 % 2 == 0 } ?? false, maximumMessageLength: 1 << 16)
    let cut = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
    for part in [Array(bytes[..<cut]), Array(bytes[cut...])] {
        decoder.feed(part)
        do {
            if decoder.awaitingHandshake { _ = try decoder.handshake() }
            if !decoder.awaitingHandshake {
                while let message = try decoder.next() {
                    if case let .extended(id, payload) = message {
                        _ = id == 0 ? (try? ExtendedHandshake.decode(payload)).map { _ in 0 } : (try? MetadataMessage.decode(payload)).map { _ in 0 }
                        _ = try? PexMessage.decode(payload)
                    }
                }
            }
        } catch {
            break
        }
    }
    // Tracker and DHT answers.
    _ = try? HTTPTracker.parseAnnounce(bytes)
    _ = try? HTTPTracker.parseScrape(bytes)
    _ = try? UDPTracker.parseAnnounce(bytes, transactionID: 9)
    if case let .response(_, _, nodes, values, _)? = try? KRPCMessage.decode(bytes) {
        precondition(nodes.allSatisfy { $0.id.count == 20 } && values.count <= bytes.count / 6)
    }
    // MSE/PE: both roles fed the bytes (a stand-in DH: the fuzzer explores the state machine,
    // its sync searches and length checks, not the arithmetic). Nothing may be buffered past
    // the handshake's bounds, and no input may crash it.
    let crypto = MSEHandshake.Crypto(publicKey: [UInt8](repeating: 7, count: 96),
                                     sharedSecret: { $0.count == 96 ? fakeHash($0) + fakeHash($0.reversed()) : nil },
                                     sha1: { fakeHash($0) }, padding: [])
    var responder = MSEHandshake.responder(allowed: MSEHandshake.rc4 | MSEHandshake.plaintext, crypto: crypto) { $0.first == 0 ? $0 : nil }
    var initiator = MSEHandshake.initiator(infoHash: [UInt8](repeating: 1, count: 20), allowed: MSEHandshake.rc4, crypto: crypto)
    for part in [Array(bytes[..<cut]), Array(bytes[cut...])] {
        _ = responder.receive(part)
        _ = initiator.receive(part)
    }
    return 0
}

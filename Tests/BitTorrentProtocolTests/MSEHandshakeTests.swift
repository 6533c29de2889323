import Crypto
import Testing
@testable import BitTorrentProtocol

/// MSE/PE: RC4 against its published test vectors, and both handshake roles against each
/// other with the real DH exchange and SHA-1, in whole and in byte-sized deliveries.
@Suite struct MSEHandshakeTests {
    static func crypto(padding: Int) -> MSEHandshake.Crypto {
        let exchange = MSEKeyExchange()
        return MSEHandshake.Crypto(publicKey: exchange.publicKey, sharedSecret: { exchange.sharedSecret(with: $0) },
                                   sha1: { Digest.sha1($0) }, padding: SecureRandom.bytes(padding))
    }

    let infoHash = Array(0..<20).map { UInt8($0 * 7) }

    @Test func rc4MatchesTheKnownVectors() {
        var a = RC4(key: Array("Key".utf8), discard: 0)
        #expect(Encoding.hex(a.processed(Array("Plaintext".utf8))) == "bbf316e8d940af0ad3")
        var b = RC4(key: Array("Wiki".utf8), discard: 0)
        #expect(Encoding.hex(b.processed(Array("pedia".utf8))) == "1021bf0420")
        var c = RC4(key: Array("Secret".utf8), discard: 0)
        #expect(Encoding.hex(c.processed(Array("Attack at dawn".utf8))) == "45a01f645fc35b383552544b9bf5")
    }

    @Test func theKeyExchangeAgreesAndRefusesDegenerateKeys() {
        let a = MSEKeyExchange(), b = MSEKeyExchange()
        #expect(a.publicKey.count == 96 && a.publicKey != b.publicKey)
        #expect(a.sharedSecret(with: b.publicKey) == b.sharedSecret(with: a.publicKey))
        var one = [UInt8](repeating: 0, count: 96)
        one[95] = 1
        #expect(a.sharedSecret(with: one) == nil)
        #expect(a.sharedSecret(with: [UInt8](repeating: 0, count: 96)) == nil)
        #expect(a.sharedSecret(with: [UInt8](repeating: 0xff, count: 96)) == nil, "above P")
        #expect(a.sharedSecret(with: [1, 2, 3]) == nil)
    }

    /// Runs both sides until each is established; `chunk` bytes at a time.
    func run(_ initiator: inout MSEHandshake, _ responder: inout MSEHandshake, chunk: Int)
        -> (MSEHandshake.Established?, MSEHandshake.Established?, [MSEHandshake.Failure]) {
        var toResponder: [UInt8] = [], toInitiator: [UInt8] = []
        var done: (MSEHandshake.Established?, MSEHandshake.Established?) = (nil, nil)
        var failures: [MSEHandshake.Failure] = []
        func collect(_ outputs: [MSEHandshake.Output], into wire: inout [UInt8], result: inout MSEHandshake.Established?) {
            for output in outputs {
                switch output {
                case let .send(bytes): wire += bytes
                case let .established(e): result = e
                case let .failed(f): failures.append(f)
                }
            }
        }
        collect(initiator.start(), into: &toResponder, result: &done.0)
        for _ in 0..<20_000 where (done.0 == nil || done.1 == nil) && failures.isEmpty && (!toResponder.isEmpty || !toInitiator.isEmpty) {
            if !toResponder.isEmpty {
                let part = Array(toResponder.prefix(chunk)); toResponder.removeFirst(part.count)
                collect(responder.receive(part), into: &toInitiator, result: &done.1)
            }
            if !toInitiator.isEmpty {
                let part = Array(toInitiator.prefix(chunk)); toInitiator.removeFirst(part.count)
                collect(initiator.receive(part), into: &toResponder, result: &done.0)
            }
        }
        return (done.0, done.1, failures)
    }

    @Test(arguments: [1, 7, 4096]) func bothSidesAgreeOnRC4AndTheStreamDecrypts(chunk: Int) {
        let hash = infoHash
        var a = MSEHandshake.initiator(infoHash: hash, allowed: MSEHandshake.rc4, crypto: Self.crypto(padding: 300))
        var b = MSEHandshake.responder(allowed: MSEHandshake.rc4 | MSEHandshake.plaintext, crypto: Self.crypto(padding: 512)) { req2 in
            req2 == Digest.sha1(Array("req2".utf8) + hash) ? hash : nil
        }
        let (ea, eb, failures) = run(&a, &b, chunk: chunk)
        #expect(failures.isEmpty)
        guard var ea, var eb else { Issue.record("not established"); return }
        #expect(eb.infoHash == hash)
        let message = Array("\u{13}BitTorrent protocol and then some pieces".utf8)
        #expect(ea.encrypt != nil && eb.decrypt != nil)
        let wire = ea.encrypt!.processed(message)
        #expect(wire != message)
        #expect(eb.decrypt!.processed(wire) == message)
        let back = eb.encrypt!.processed(message)
        #expect(ea.decrypt!.processed(back) == message)
    }

    @Test func plaintextIsChosenOnlyWhenBothAllowIt() {
        let hash = infoHash
        var a = MSEHandshake.initiator(infoHash: hash, allowed: MSEHandshake.plaintext, crypto: Self.crypto(padding: 0))
        var b = MSEHandshake.responder(allowed: MSEHandshake.rc4 | MSEHandshake.plaintext, crypto: Self.crypto(padding: 10)) { _ in hash }
        let (ea, eb, _) = run(&a, &b, chunk: 100)
        #expect(ea != nil && ea?.encrypt == nil && eb?.decrypt == nil)
        var c = MSEHandshake.initiator(infoHash: hash, allowed: MSEHandshake.plaintext, crypto: Self.crypto(padding: 0))
        var d = MSEHandshake.responder(allowed: MSEHandshake.rc4, crypto: Self.crypto(padding: 10)) { _ in hash }
        let (_, _, failures) = run(&c, &d, chunk: 100)
        #expect(failures == [.noCommonMethod], "a require-encryption responder refuses plaintext")
    }

    @Test func aResponderPreferringPlaintextTakesItWhenOfferedAndRC4Otherwise() {
        let hash = infoHash
        var a = MSEHandshake.initiator(infoHash: hash, allowed: MSEHandshake.rc4 | MSEHandshake.plaintext, crypto: Self.crypto(padding: 3))
        var b = MSEHandshake.responder(allowed: MSEHandshake.rc4 | MSEHandshake.plaintext, preferPlaintext: true,
                                       crypto: Self.crypto(padding: 3)) { _ in hash }
        let (ea, eb, _) = run(&a, &b, chunk: 50)
        #expect(ea != nil && ea?.encrypt == nil && eb?.encrypt == nil, "both offered: plain payload")
        var c = MSEHandshake.initiator(infoHash: hash, allowed: MSEHandshake.rc4, crypto: Self.crypto(padding: 3))
        var d = MSEHandshake.responder(allowed: MSEHandshake.rc4 | MSEHandshake.plaintext, preferPlaintext: true,
                                       crypto: Self.crypto(padding: 3)) { _ in hash }
        let (ec, ed, _) = run(&c, &d, chunk: 50)
        #expect(ec?.encrypt != nil && ed?.decrypt != nil, "RC4 only offered: RC4")
    }

    @Test func anUnknownTorrentAndGarbageAreRefusedWithinTheBounds() {
        var a = MSEHandshake.initiator(infoHash: infoHash, allowed: MSEHandshake.rc4, crypto: Self.crypto(padding: 5))
        var b = MSEHandshake.responder(allowed: MSEHandshake.rc4, crypto: Self.crypto(padding: 5)) { _ in nil }
        #expect(run(&a, &b, chunk: 64).2 == [.unknownTorrent])

        // A responder fed a valid key then 600 bytes of noise gives up (no req1 sync) —
        // it never buffers more than the padding limit allows.
        var c = MSEHandshake.responder(allowed: MSEHandshake.rc4, crypto: Self.crypto(padding: 0)) { _ in nil }
        let outputs = c.receive(MSEKeyExchange().publicKey + [UInt8](repeating: 0x41, count: 600))
        #expect(outputs.contains { if case .failed(.noSync) = $0 { return true } else { return false } })
        // A degenerate public key is refused at once.
        var d = MSEHandshake.responder(allowed: MSEHandshake.rc4, crypto: Self.crypto(padding: 0)) { _ in nil }
        #expect(d.receive([UInt8](repeating: 0, count: 96)).contains { if case .failed(.badKey) = $0 { return true } else { return false } })
    }
}

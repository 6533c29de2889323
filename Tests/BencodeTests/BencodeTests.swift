import Testing
@testable import Bencode

@Suite struct BencodeDecoderTests {
    func decode(_ text: String) throws(BencodeError) -> BNode { try BencodeDecoder().decode(Array(text.utf8)) }
    func reason(_ text: String) -> BencodeError.Reason? {
        do { _ = try decode(text); return nil } catch { return error.reason }
    }

    @Test func valuesAndRanges() throws {
        let node = try decode("d3:bar4:spam3:fooi42e4:listl1:ai-3eee")
        #expect(node["foo"]?.integer == 42)
        #expect(node["bar"]?.string == "spam")
        #expect(node["list"]?.list?.count == 2)
        #expect(node["list"]?.range == 27..<36, "raw span of a sub-value")
        #expect(try decode("i-9223372036854775808e").integer == Int64.min)
        #expect(try decode("0:").bytes == [])
    }

    @Test(arguments: [
        ("i-0e", BencodeError.Reason.nonCanonicalInteger), ("i03e", .nonCanonicalInteger), ("ie", .invalidInteger),
        ("i-e", .invalidInteger), ("i1", .unexpectedEnd), ("i1xe", .invalidInteger), ("i9223372036854775808e", .integerOverflow),
        ("3:ab", .unexpectedEnd), ("03:abc", .invalidLength), (":", .unexpectedByte), ("1x:a", .invalidLength), ("99999999999:x", .lengthTooLarge),
        ("d1:b0:1:a0:e", .unsortedKeys), ("d1:a0:1:a0:e", .unsortedKeys), ("di1e0:e", .keyNotString),
        ("i1ei2e", .trailingData), ("x", .unexpectedByte), ("", .unexpectedEnd), ("l", .unexpectedEnd), ("d1:a", .unexpectedEnd),
    ])
    func refusesHostileInput(_ input: String, _ expected: BencodeError.Reason) {
        #expect(reason(input) == expected, "\(input)")
    }

    @Test func depthAndItemLimits() {
        #expect(reason(String(repeating: "l", count: 100) + String(repeating: "e", count: 100)) == .tooDeep)
        var decoder = BencodeDecoder()
        decoder.maxItems = 3
        #expect(throws: BencodeError.self) { try decoder.decode(Array("li1ei2ei3ei4ee".utf8)) }
        decoder.maxStringLength = 2
        #expect(throws: BencodeError.self) { try decoder.decode(Array("3:abc".utf8)) }
    }

    @Test func errorsNameTheKeyPath() {
        do {
            _ = try decode("d4:infod6:lengthi-0eee")
            Issue.record("should fail")
        } catch {
            #expect(error.path == ["info", "length"])
            #expect(error.description.contains("info.length"))
        }
    }

    @Test func everySplitPointFailsCleanlyAndTheWholeSucceeds() throws {
        let input = Array("d8:announce18:http://t.example/a4:infod6:lengthi5e4:name3:a b12:piece lengthi16384e6:pieces20:ABCDEFGHIJKLMNOPQRSTee".utf8)
        for cut in 0..<input.count {
            #expect(throws: BencodeError.self) { try BencodeDecoder().decode(Array(input[..<cut])) }
        }
        let node = try BencodeDecoder().decode(input)
        #expect(node.value.encoded == input, "canonical round trip")
    }

    @Test func prefixDecodingForMetadataMessages() throws {
        let (node, used) = try BencodeDecoder().decodePrefix(Array("d8:msg_typei1e5:piecei0eeRAWDATA".utf8))
        #expect(node["msg_type"]?.integer == 1 && used == 25)
    }
}

@Suite struct BencodeEncoderTests {
    @Test func canonicalForm() {
        let value = BValue.dict(["z": .integer(-5), "a": .list([.string("x"), .bytes([0, 255])])])
        #expect(String(decoding: value.encoded, as: UTF8.self).hasPrefix("d1:al1:x2:"))
        #expect(value.encoded.suffix(7) == Array("1:zi-5ee".utf8).suffix(7))
        #expect(BValue.raw(Array("i1e".utf8)).encoded == Array("i1e".utf8))
    }
}

import Testing
@testable import WebCore

@Suite struct ByteRangeTests {
    let total: Int64 = 1000

    @Test(arguments: [
        ("bytes=0-499", ByteRange.Request.partial(ByteRange(start: 0, end: 499))),
        ("bytes=500-", .partial(ByteRange(start: 500, end: 999))),
        ("bytes=-200", .partial(ByteRange(start: 800, end: 999))),
        ("bytes=-5000", .partial(ByteRange(start: 0, end: 999))),
        ("bytes=900-5000", .partial(ByteRange(start: 900, end: 999))),
        ("bytes=1000-", .unsatisfiable),
        ("bytes=5000-6000", .unsatisfiable),
        ("bytes=-0", .unsatisfiable),
        ("bytes=2000-3000, 10-20", .partial(ByteRange(start: 10, end: 20))),
        (" bytes=1-2 ", .partial(ByteRange(start: 1, end: 2))),
        ("bytes=5-4", .whole),
        ("bytes=a-b", .whole),
        ("items=0-1", .whole),
        ("bytes=", .whole),
        ("bytes=--1", .whole),
        ("bytes=99999999999999999999-", .whole),
    ])
    func rfc9110(_ header: String, _ expected: ByteRange.Request) {
        #expect(ByteRange.parse(header, total: total) == expected, "\(header)")
    }

    @Test func contentRangeAndEmptyRepresentations() {
        #expect(ByteRange(start: 0, end: 499).contentRange(total: 1000) == "bytes 0-499/1000")
        #expect(ByteRange(start: 0, end: 499).length == 500)
        #expect(ByteRange.parse("bytes=0-", total: 0) == .unsatisfiable)
        #expect(ByteRange.parse("bytes=-10", total: 0) == .unsatisfiable)
        #expect(ByteRange.parse(nil, total: 10) == .whole)
        #expect(ByteRange.parse(String(repeating: "bytes=0-1,", count: 200), total: 10) == .whole, "over-long header ignored")
    }
}

import Testing
@testable import QRCode

@Suite struct QRCodeTests {
    @Test func reedSolomonMatchesTheStandardsWorkedExample() {
        // ISO/IEC 18004 Annex I: "01234567" as 1-M, its 16 data codewords and 10 EC codewords.
        let data: [UInt8] = [0x10, 0x20, 0x0C, 0x56, 0x61, 0x80, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11]
        let ec = ReedSolomon.remainder(data, divisor: ReedSolomon.generator(degree: 10))
        #expect(ec == [0xA5, 0x24, 0xD4, 0xC1, 0xED, 0x36, 0xC7, 0x87, 0x2C, 0x55])
    }

    @Test func byteModeDataIsModeLengthBytesTerminatorAndPadding() {
        let codewords = QRCode.dataCodewords(Array("AB".utf8), version: 1)
        #expect(codewords.count == 16)
        // 0100 00000010 01000001 01000010 0000 → 0x40 0x24 0x14 0x20, then 0xEC 0x11 …
        #expect(Array(codewords.prefix(6)) == [0x40, 0x24, 0x14, 0x20, 0xEC, 0x11])
    }

    @Test func theSmallestVersionThatFitsIsChosenAndTooMuchDataIsRefused() throws {
        #expect(try QRCode(text: "HELLO").version == 1)
        #expect(try QRCode(text: "HELLO").size == 21)
        #expect(try QRCode(bytes: Array(repeating: 0x41, count: 14)).version == 1)
        #expect(try QRCode(bytes: Array(repeating: 0x41, count: 15)).version == 2)
        let biggest = try QRCode(bytes: Array(repeating: 0x41, count: QRCode.maximumBytes))
        #expect(biggest.version == 10 && biggest.size == 57)
        #expect(throws: QRCode.Failure.tooLong(bytes: 214)) { try QRCode(bytes: Array(repeating: 0, count: 214)) }
    }

    @Test func finderTimingAndFormatAreWhereDecodersLook() throws {
        let code = try QRCode(text: "https://miauflix.example/device?code=BCDF2345")
        let n = code.size
        for (row, column) in [(0, 0), (0, n - 7), (n - 7, 0)] {
            #expect(code.isDark(row: row, column: column) && code.isDark(row: row + 6, column: column + 6))
            #expect(!code.isDark(row: row + 1, column: column + 1) && code.isDark(row: row + 3, column: column + 3))
        }
        for index in 8..<(n - 8) { #expect(code.isDark(row: 6, column: index) == (index % 2 == 0)) }
        #expect(code.isDark(row: n - 8, column: 8), "the dark module")
        // Format bits (level M, chosen mask), both copies agree.
        var remainder = code.mask
        for _ in 0..<10 { remainder = (remainder << 1) ^ ((remainder >> 9) * 0x537) }
        let bits = (code.mask << 10 | remainder) ^ 0x5412
        for index in 0..<8 { #expect(code.isDark(row: 8, column: n - 1 - index) == ((bits >> index) & 1 == 1)) }
        for index in 0...5 { #expect(code.isDark(row: index, column: 8) == ((bits >> index) & 1 == 1)) }
    }

    @Test func svgHasAQuietZoneAndOnlyDarkRuns() throws {
        let code = try QRCode(text: "HELLO")
        let svg = code.svg()
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 29 29\""))
        #expect(svg.contains("M4 4h7v1h-7z"), "the top finder row is one run of 7 starting after the quiet zone")
        #expect(!svg.contains("<script"))
    }
}

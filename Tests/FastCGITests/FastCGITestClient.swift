import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A minimal FastCGI client (the protocol as nginx speaks it: one request per
/// connection), to drive the worker pool without nginx.
enum FastCGITestClient {
    struct Reply {
        var stdout: [UInt8]
        var text: String { String(decoding: stdout, as: UTF8.self) }
        var status: Int? {
            guard let line = text.split(separator: "\r\n").first(where: { $0.hasPrefix("Status: ") }) else { return nil }
            return Int(line.dropFirst(8).prefix(3))
        }
        var body: String { text.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n") }
    }

    static func connect(_ path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in path.utf8.enumerated() { raw[i] = byte }
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else { close(fd); throw POSIXError(.ECONNREFUSED) }
        return fd
    }

    static func record(_ type: UInt8, _ content: [UInt8]) -> [UInt8] {
        let length = content.count
        return [1, type, 0, 1, UInt8(length >> 8), UInt8(length & 0xff), 0, 0] + content
    }

    static func pair(_ name: String, _ value: String) -> [UInt8] {
        func length(_ n: Int) -> [UInt8] {
            n < 128 ? [UInt8(n)] : [UInt8((n >> 24) | 0x80), UInt8((n >> 16) & 0xff), UInt8((n >> 8) & 0xff), UInt8(n & 0xff)]
        }
        return length(name.utf8.count) + length(value.utf8.count) + Array(name.utf8) + Array(value.utf8)
    }

    static func request(_ path: String, params: [String: String], body: [UInt8] = []) throws -> Reply {
        let fd = try connect(path)
        defer { close(fd) }
        var bytes = record(1, [0, 1, 0, 0, 0, 0, 0, 0])
        var encoded: [UInt8] = []
        var allParams = params
        if !body.isEmpty { allParams["CONTENT_LENGTH"] = String(body.count) }
        for (name, value) in allParams { encoded += pair(name, value) }
        bytes += record(4, encoded) + record(4, [])
        var offset = 0
        while offset < body.count {
            let chunk = Array(body[offset..<min(offset + 65535, body.count)])
            bytes += record(5, chunk)
            offset += chunk.count
        }
        bytes += record(5, [])
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw POSIXError(.EPIPE) }
            written += n
        }
        var input: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            input += buffer[0..<n]
        }
        var stdout: [UInt8] = []
        var cursor = 0
        while cursor + 8 <= input.count {
            let type = input[cursor + 1]
            let length = Int(input[cursor + 4]) << 8 | Int(input[cursor + 5])
            let padding = Int(input[cursor + 6])
            let content = Array(input[(cursor + 8)..<min(cursor + 8 + length, input.count)])
            if type == 6 { stdout += content }
            cursor += 8 + length + padding
        }
        return Reply(stdout: stdout)
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// A unix datagram socket by which API workers wake the engine (a Watch Now intent is
/// waiting) instead of the engine polling the database. Sending never blocks and never
/// fails loudly: if the engine is down, the intent waits in the database for its next poll.
public enum WakeChannel {
    /// Sends one datagram naming what to wake (a job name, ≤ 64 bytes).
    public static func send(_ name: String, to path: String) {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var address = sockaddr_un()
        guard fill(&address, path) else { return }
        let bytes = Array(name.utf8.prefix(64))
        _ = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sockaddrPointer in
                bytes.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, 0, sockaddrPointer, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
        }
    }

    /// A bound receiving socket.
    public final class Listener: @unchecked Sendable {
        let fd: Int32
        public let path: String

        /// Binds `path` (replacing a stale socket file; mode 0660).
        public init?(path: String) {
            unlink(path)
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            self.path = path
            var address = sockaddr_un()
            guard fd >= 0, WakeChannel.fill(&address, path) else { return nil }
            let bound = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard bound == 0 else { Glibc.close(fd); return nil }
            chmod(path, 0o660)
        }

        /// The next name, or nil after `timeoutMilliseconds` without one.
        public func receive(timeoutMilliseconds: Int32) -> String? {
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, timeoutMilliseconds) > 0 else { return nil }
            var buffer = [UInt8](repeating: 0, count: 64)
            let got = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard got > 0 else { return nil }
            return String(decoding: buffer[0..<got], as: UTF8.self)
        }

        public func close() {
            Glibc.close(fd)
            unlink(path)
        }
    }

    static func fill(_ address: inout sockaddr_un, _ path: String) -> Bool {
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return true
    }
}

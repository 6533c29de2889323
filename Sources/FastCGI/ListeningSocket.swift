#if canImport(Glibc)
import Glibc
#endif

/// The unix listening socket that the supervisor creates and the workers inherit.
public enum ListeningSocket {
    /// An error opening the socket, with the path and the system's reason.
    public struct Failure: Error, CustomStringConvertible {
        /// What failed.
        public let description: String
    }

    /// Creates, binds and listens on a unix socket at `path` with `mode` (nginx's workers
    /// run as another user, so 0666 by default). A stale socket file is replaced; a socket
    /// someone is still listening on is an error. The descriptor is *not* close-on-exec,
    /// because the workers inherit it.
    public static func open(path: String, mode: mode_t = 0o666, backlog: Int32 = 1024) throws -> Int32 {
        if isListening(path: path) {
            throw Failure(description: "another process is already listening on \(path)")
        }
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket(): \(String(cString: strerror(errno)))") }
        var address = try makeAddress(path)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw Failure(description: "bind(\(path)): \(reason)")
        }
        chmod(path, mode)
        guard listen(fd, backlog) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw Failure(description: "listen(\(path)): \(reason)")
        }
        return fd
    }

    /// Whether something accepts connections on `path`.
    public static func isListening(path: String) -> Bool {
        guard var address = try? makeAddress(path) else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        return result == 0
    }

    static func makeAddress(_ path: String) throws -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else {
            throw Failure(description: "socket path too long (\(bytes.count) bytes, limit \(capacity - 1)): \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in bytes.enumerated() { raw[i] = byte }
            raw[bytes.count] = 0
        }
        return address
    }
}

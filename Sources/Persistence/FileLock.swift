#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An advisory, process-wide exclusive lock on a file (`flock`), released when the body
/// returns or the process dies — so a crashed migrator never leaves a stale lock.
public enum FileLock {
    public struct Failure: Error, CustomStringConvertible {
        let path: String
        let errno: Int32
        public var description: String { "cannot lock \(path): \(String(cString: strerror(errno)))" }
    }

    public static func withExclusiveLock<T>(path: String, _ body: () throws -> T) throws -> T {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Failure(path: path, errno: errno) }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw Failure(path: path, errno: errno) }
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }
}

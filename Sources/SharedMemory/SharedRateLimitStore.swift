// Rate-limit windows shared by every API worker process and thread.
//
// Why shared memory and not SQLite or per-process maps: a limit of 1 request/s must hold
// even when consecutive requests land on different workers, and a database write on every
// rate-limited request would cost more than the request itself. The table is a fixed-size
// memory-mapped file (DATA_DIR/run/ratelimit.shm), so memory is bounded by construction:
// open addressing over `slotCount` slots, probing at most 16; a slot whose window has gone
// idle is reused, and when all probed slots are busy the least recently needed one is
// evicted. One process-shared, robust pthread mutex guards the table (a worker that dies
// while holding it cannot wedge the pool: the next locker gets EOWNERDEAD and repairs the
// mutex). Critical sections are a few hundred nanoseconds.
import Foundation
import WebCore
#if canImport(Glibc)
import Glibc
#endif

/// The cross-process rate-limit table.
public final class SharedRateLimitStore: RateLimitStore, @unchecked Sendable {
    static let magic: UInt64 = 0x4d46_524c_5631_0001 // "MFRLV1" + version
    static let headerSize = 4096
    static let windowCapacity = RateLimitPolicy.maximumLimit
    static let slotSize = 8 + 8 + 8 + 8 * windowCapacity
    static let probeLength = 16

    let base: UnsafeMutableRawPointer
    let mappedLength: Int
    /// The number of slots.
    public let slotCount: Int

    /// Why the table could not be opened.
    public struct Failure: Error, CustomStringConvertible {
        /// What failed.
        public let description: String
    }

    /// Opens (creating and initialising under a file lock when needed) the table at `path`.
    public init(path: String, slotCount: Int = 4096) throws {
        self.slotCount = slotCount
        mappedLength = Self.headerSize + slotCount * Self.slotSize
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Failure(description: "open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw Failure(description: "flock \(path): \(String(cString: strerror(errno)))") }
        }
        defer { flock(fd, LOCK_UN) }
        var info = stat()
        fstat(fd, &info)
        let fresh = Int(info.st_size) != mappedLength
        if fresh {
            guard ftruncate(fd, 0) == 0, ftruncate(fd, off_t(mappedLength)) == 0 else {
                throw Failure(description: "ftruncate \(path): \(String(cString: strerror(errno)))")
            }
        }
        guard let pointer = mmap(nil, mappedLength, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), pointer != MAP_FAILED else {
            throw Failure(description: "mmap \(path): \(String(cString: strerror(errno)))")
        }
        base = pointer
        if fresh || base.load(as: UInt64.self) != Self.magic {
            memset(base, 0, mappedLength)
            var attributes = pthread_mutexattr_t()
            pthread_mutexattr_init(&attributes)
            pthread_mutexattr_setpshared(&attributes, Int32(PTHREAD_PROCESS_SHARED))
            pthread_mutexattr_setrobust(&attributes, Int32(PTHREAD_MUTEX_ROBUST))
            pthread_mutex_init(mutex, &attributes)
            pthread_mutexattr_destroy(&attributes)
            base.storeBytes(of: Self.magic, as: UInt64.self)
            msync(base, Self.headerSize, MS_SYNC)
        }
    }

    deinit { munmap(base, mappedLength) }

    var mutex: UnsafeMutablePointer<pthread_mutex_t> {
        (base + 64).assumingMemoryBound(to: pthread_mutex_t.self)
    }

    func slot(_ index: Int) -> UnsafeMutableRawPointer {
        base + Self.headerSize + index * Self.slotSize
    }

    public func check(key: String, limit: Double, now: Int64) -> RateLimitPolicy.Decision {
        var hash = Self.fnv1a(key)
        if hash == 0 { hash = 1 }
        lock()
        defer { pthread_mutex_unlock(mutex) }

        let start = Int(hash % UInt64(slotCount))
        var chosen: UnsafeMutableRawPointer?
        var free: UnsafeMutableRawPointer?
        var oldest: (UnsafeMutableRawPointer, Int64)?
        for probe in 0..<Self.probeLength {
            let candidate = slot((start + probe) % slotCount)
            let slotKey = candidate.load(as: UInt64.self)
            let keepUntil = candidate.load(fromByteOffset: 8, as: Int64.self)
            if slotKey == hash { chosen = candidate; break }
            if free == nil && (slotKey == 0 || keepUntil < now) { free = candidate }
            if oldest == nil || keepUntil < oldest!.1 { oldest = (candidate, keepUntil) }
        }
        let target: UnsafeMutableRawPointer
        if let chosen {
            target = chosen
        } else {
            target = free ?? oldest!.0
            target.storeBytes(of: hash, as: UInt64.self)
            target.storeBytes(of: Int64(0), toByteOffset: 16, as: Int64.self)
        }
        let count = Int(target.load(fromByteOffset: 16, as: Int64.self))
        var window = (0..<min(max(count, 0), Self.windowCapacity)).map { target.load(fromByteOffset: 24 + 8 * $0, as: Int64.self) }
        let decision = RateLimitPolicy.decide(limit: limit, now: now, window: &window)
        if window.count > Self.windowCapacity { window.removeFirst(window.count - Self.windowCapacity) }
        for (index, time) in window.enumerated() { target.storeBytes(of: time, toByteOffset: 24 + 8 * index, as: Int64.self) }
        target.storeBytes(of: Int64(window.count), toByteOffset: 16, as: Int64.self)
        target.storeBytes(of: now + RateLimitPolicy.retention(limit: limit), toByteOffset: 8, as: Int64.self)
        return decision
    }

    private func lock() {
        let result = pthread_mutex_lock(mutex)
        if result == EOWNERDEAD { pthread_mutex_consistent(mutex) }
    }

    /// FNV-1a, 64-bit: the same in every process (Swift's `Hasher` is seeded per process).
    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }
}

import Foundation

/// A small mutex wrapper for value state shared between threads.
final class NSLockShim: @unchecked Sendable {
    private let lock = NSLock()

    func with<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }
}

import Foundation

/// Coalesces concurrent work for the same key within a process: the first caller runs it,
/// the others wait for its result (so ten users opening a new title make one TMDB call).
public final class SingleFlight<Key: Hashable & Sendable, Value: Sendable>: @unchecked Sendable {
    final class Call {
        let done = DispatchSemaphore(value: 0)
        var result: Result<Value, CatalogError>?
        var waiters = 0
    }

    private var calls: [Key: Call] = [:]
    private let lock = NSLock()

    /// Creates an empty group.
    public init() {}

    /// Runs `work` once per key at a time; concurrent callers share its result.
    public func run(_ key: Key, _ work: () throws(CatalogError) -> Value) throws(CatalogError) -> Value {
        lock.lock()
        if let call = calls[key] {
            call.waiters += 1
            lock.unlock()
            call.done.wait()
            call.done.signal()
            return try call.result!.get()
        }
        let call = Call()
        calls[key] = call
        lock.unlock()
        let result: Result<Value, CatalogError>
        do { result = .success(try work()) } catch { result = .failure(error) }
        lock.lock()
        call.result = result
        calls[key] = nil
        lock.unlock()
        call.done.signal()
        return try result.get()
    }
}

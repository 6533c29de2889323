import Domain
import Foundation
import Logging

/// Writes audit events off the request path: events are queued in memory and a background
/// thread inserts them in batches (one transaction per batch, at most every 200 ms).
/// Security-relevant events (`urgent`) are written before the request answers.
///
/// The queue is bounded (10 000 events); when the database cannot keep up, the oldest
/// routine events are dropped and counted in the log rather than growing memory.
public final class AuditWriter: @unchecked Sendable {
    let database: AppDatabase
    let logger: Logger
    private let condition = NSCondition()
    private var queue: [AuditEvent] = []
    private var dropped = 0
    private var stopped = false
    private let done = DispatchSemaphore(value: 0)
    static let capacity = 10_000
    static let interval: TimeInterval = 0.2

    /// Creates the writer and starts its thread.
    public init(database: AppDatabase, logger: Logger) {
        self.database = database
        self.logger = logger
        let thread = Thread { [self] in self.loop() }
        thread.name = "audit-writer"
        thread.start()
    }

    /// Records an event; `urgent` ones are written synchronously.
    public func record(_ event: AuditEvent, urgent: Bool = false) {
        if urgent {
            do { try database.insertAudit([event]) } catch {
                logger.error("audit write failed", metadata: ["event": "audit_error", "error": "\(type(of: error))"])
            }
            return
        }
        condition.lock()
        if queue.count >= Self.capacity {
            queue.removeFirst(queue.count - Self.capacity + 1)
            dropped += 1
        }
        queue.append(event)
        condition.unlock()
    }

    /// Writes everything queued and stops the thread (graceful shutdown).
    public func close() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
        _ = done.wait(timeout: .now() + 5)
    }

    /// Writes everything queued now (tests, shutdown).
    public func flush() {
        condition.lock()
        let batch = queue
        queue.removeAll(keepingCapacity: true)
        condition.unlock()
        write(batch)
    }

    private func loop() {
        while true {
            condition.lock()
            _ = condition.wait(until: Date().addingTimeInterval(Self.interval))
            let batch = queue
            queue.removeAll(keepingCapacity: true)
            let lost = dropped
            dropped = 0
            let stop = stopped
            condition.unlock()
            write(batch)
            if lost > 0 {
                logger.warning("audit queue overflow", metadata: ["event": "audit_dropped", "count": "\(lost)"])
            }
            if stop { done.signal(); return }
        }
    }

    private func write(_ batch: [AuditEvent]) {
        guard !batch.isEmpty else { return }
        do { try database.insertAudit(batch) } catch {
            logger.error("audit write failed", metadata: ["event": "audit_error", "count": "\(batch.count)", "error": "\(type(of: error))"])
        }
    }
}

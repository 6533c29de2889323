import CCurl
import Foundation
import Logging

/// How `HTTPClient` retries and paces requests.
public struct HTTPClientPolicy: Sendable {
    /// Attempts per request (first try included).
    public var maxAttempts = 3
    /// First backoff delay in seconds; doubles per attempt, with jitter (50–100 %).
    public var baseBackoff = 0.2
    /// Longest single backoff or Retry-After wait honoured, in seconds.
    public var maxBackoff = 5.0
    /// Requests per second allowed per host (e.g. TMDB 40/s); hosts not listed are unpaced.
    public var ratePerHost: [String: Double] = [:]
    /// Per-attempt options (timeouts, body cap, interface).
    public var options = HTTPRequestOptions()
    /// Told about every finished call (all attempts together), for metrics.
    public var observer: (any HTTPCallObserving)?

    /// Default policy.
    public init() {}
}

/// Sees each finished call: its host, how long it took across attempts and its final status
/// (nil: no response at all).
public protocol HTTPCallObserving: Sendable {
    func completed(host: String, seconds: Double, status: Int?)
}

/// The transport seam: libcurl in production, a scripted fake in tests.
public protocol HTTPTransport: Sendable {
    /// Performs one request (`body` is sent as is; set its Content-Type in `options.headers`).
    func send(method: String, url: String, body: [UInt8]?, options: HTTPRequestOptions) throws(HTTPClientError) -> HTTPResponse
}

/// libcurl with a small pool of easy handles, so connections to a host are reused.
public final class CurlTransport: HTTPTransport, @unchecked Sendable {
    private var idle: [UnsafeMutableRawPointer] = []
    private let lock = NSLock()

    /// Creates the transport.
    public init() {}

    deinit { idle.forEach { curl_easy_cleanup($0) } }

    public func send(method: String, url: String, body: [UInt8]?, options: HTTPRequestOptions) throws(HTTPClientError) -> HTTPResponse {
        lock.lock()
        let pooled = idle.popLast()
        lock.unlock()
        guard let handle = pooled ?? curl_easy_init() else { throw .other(code: -1) }
        defer {
            lock.lock()
            if idle.count < 16 { idle.append(handle) } else { curl_easy_cleanup(handle) }
            lock.unlock()
        }
        return try CurlClient.send(method: method, url: url, body: body, options: options, handle: handle)
    }
}

/// An HTTP client for upstream APIs: retries network errors and 5xx with exponential
/// backoff and jitter, honours `Retry-After` on 429, paces requests per host, and never runs
/// past the caller's time budget. Logs carry host and path, never the query (it may hold
/// secrets).
public final class HTTPClient: Sendable {
    let policy: HTTPClientPolicy
    let transport: any HTTPTransport
    let logger: Logger
    let pacer: HostPacer

    /// Creates a client.
    public init(policy: HTTPClientPolicy = HTTPClientPolicy(), transport: any HTTPTransport = CurlTransport(), logger: Logger) {
        self.policy = policy
        self.transport = transport
        self.logger = logger
        pacer = HostPacer(rates: policy.ratePerHost)
    }

    /// GET `url` with extra header lines, within `budget` seconds overall.
    public func get(_ url: String, headers: [String] = [], budget: Double = 10) throws(HTTPClientError) -> HTTPResponse {
        try send(method: "GET", url: url, body: nil, headers: headers, budget: budget)
    }

    /// POST a JSON body. Only network failures before anything was sent are retried by the
    /// caller's choice: POSTs are retried like GETs here because every upstream POST we make
    /// (OAuth device flow) is idempotent.
    public func postJSON(_ url: String, json: [UInt8], headers: [String] = [], budget: Double = 10) throws(HTTPClientError) -> HTTPResponse {
        try send(method: "POST", url: url, body: json, headers: headers + ["Content-Type: application/json"], budget: budget)
    }

    func send(method: String, url: String, body: [UInt8]?, headers: [String], budget: Double) throws(HTTPClientError) -> HTTPResponse {
        guard let observer = policy.observer else { return try attempts(method: method, url: url, body: body, headers: headers, budget: budget) }
        let started = Date()
        let host = URL(string: url)?.host ?? "?"
        do {
            let response = try attempts(method: method, url: url, body: body, headers: headers, budget: budget)
            observer.completed(host: host, seconds: Date().timeIntervalSince(started), status: response.status)
            return response
        } catch {
            observer.completed(host: host, seconds: Date().timeIntervalSince(started), status: nil)
            throw error
        }
    }

    func attempts(method: String, url: String, body: [UInt8]?, headers: [String], budget: Double) throws(HTTPClientError) -> HTTPResponse {
        let deadline = Date().addingTimeInterval(budget)
        let host = URL(string: url)?.host ?? "?"
        let path = URL(string: url)?.path ?? "?"
        var attempt = 0
        while true {
            attempt += 1
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0.01 else { throw .timeout }
            if let wait = pacer.reserve(host: host, now: Date()), wait > 0 {
                guard wait < remaining else { throw .timeout }
                Thread.sleep(forTimeInterval: wait)
            }
            var options = policy.options
            options.headers += headers
            options.totalTimeout = min(options.totalTimeout, max(0.05, deadline.timeIntervalSinceNow))
            options.connectTimeout = min(options.connectTimeout, options.totalTimeout)
            let outcome: Result<HTTPResponse, HTTPClientError>
            do { outcome = .success(try transport.send(method: method, url: url, body: body, options: options)) } catch { outcome = .failure(error) }

            let delay: Double
            switch outcome {
            case let .success(response) where response.status == 429:
                let retryAfter = response.headers.first { $0.name == "retry-after" }.flatMap { Double($0.value) } ?? policy.baseBackoff
                guard attempt < policy.maxAttempts, retryAfter <= policy.maxBackoff else { return response }
                delay = retryAfter
            case let .success(response) where response.status >= 500:
                guard attempt < policy.maxAttempts else { return response }
                delay = RetryPolicy.backoff(attempt: attempt, base: policy.baseBackoff, cap: policy.maxBackoff,
                                            jitter: Double.random(in: 0.5...1.0))
            case let .success(response):
                return response
            case let .failure(error):
                guard RetryPolicy.isRetryable(error), attempt < policy.maxAttempts else {
                    logger.warning("upstream request failed", metadata: ["event": "http_error", "host": "\(host)", "path": "\(path)", "error": "\(error)"])
                    throw error
                }
                delay = RetryPolicy.backoff(attempt: attempt, base: policy.baseBackoff, cap: policy.maxBackoff,
                                            jitter: Double.random(in: 0.5...1.0))
            }
            guard delay < deadline.timeIntervalSinceNow else {
                if case let .success(response) = outcome { return response }
                throw .timeout
            }
            logger.info("retrying upstream request", metadata: ["event": "http_retry", "host": "\(host)", "path": "\(path)",
                                                               "attempt": "\(attempt)", "delay_ms": "\(Int(delay * 1000))"])
            Thread.sleep(forTimeInterval: delay)
        }
    }
}

/// Pure retry rules.
public enum RetryPolicy {
    /// `base × 2^(attempt-1)`, capped, times `jitter` (0.5–1.0).
    public static func backoff(attempt: Int, base: Double, cap: Double, jitter: Double) -> Double {
        min(cap, base * pow(2, Double(max(0, attempt - 1)))) * jitter
    }

    /// Network failures worth another try (a DNS failure or a TLS error will not heal).
    public static func isRetryable(_ error: HTTPClientError) -> Bool {
        switch error {
        case .timeout, .connection: return true
        default: return false
        }
    }
}

/// Per-host pacing: reserves the next free slot of `1/rate` seconds and returns how long
/// the caller must wait for it.
public final class HostPacer: @unchecked Sendable {
    private var next: [String: Date] = [:]
    private let rates: [String: Double]
    private let lock = NSLock()

    /// Creates a pacer.
    public init(rates: [String: Double]) { self.rates = rates }

    /// Seconds to wait before sending to `host` (nil: host not paced).
    public func reserve(host: String, now: Date) -> Double? {
        guard let rate = rates[host], rate > 0 else { return nil }
        lock.lock()
        defer { lock.unlock() }
        let slot = max(now, next[host] ?? now)
        next[host] = slot.addingTimeInterval(1 / rate)
        return slot.timeIntervalSince(now)
    }
}

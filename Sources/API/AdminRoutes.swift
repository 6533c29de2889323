import Domain
import Foundation
import Crypto
import Persistence
import WebCore

/// `/api/config` (reference §2.4, with its bugs fixed: secrets never in clear, PUT is
/// all-or-nothing and audited) and `GET /api/admin/audit`.
struct AdminRoutes {
    let environment: APIEnvironment
    let database: AppDatabase
    let auth: AuthRoutes

    struct ConfigUpdate: Decodable {
        struct Entry: Decodable {
            var key: String
            var value: String
        }
        var entries: [Entry]
    }

    struct ConfigResult: Encodable {
        var success: Bool
        var restarting: [String]
        var needsProcessRestart: [String]
    }

    struct InvalidKeys: Encodable {
        var success = false
        var invalidKeys: [String]
    }

    /// An audit row with its metadata as a JSON object rather than a string.
    struct AuditItem: Encodable {
        var id: String
        var eventType: String
        var severity: String
        var description: String?
        var userEmail: String?
        var ipAddress: String?
        var userAgent: String?
        var metadata: JSONValue
        var createdAt: Date

        init(_ row: AuditRow) {
            id = row.id
            eventType = row.eventType
            severity = row.severity
            description = row.description
            userEmail = row.userEmail
            ipAddress = row.ipAddress
            userAgent = row.userAgent
            metadata = row.metadata.flatMap(JSONValue.init(parsing:)) ?? .null
            createdAt = row.createdAt
        }
    }

    struct AuditPage: Encodable {
        var items: [AuditItem]
        var total: Int
        var page: Int
        var limit: Int
    }

    func register(_ routes: inout RouteBuilder) {
        routes.on("GET", "/api/config", limit: 5, access: .admin) { _ in .json(try config().entries()) }
        routes.on("PUT", "/api/config", limit: 2, access: .admin) { try update($0) }
        routes.on("POST", "/api/config/:service/restart", limit: 1, access: .admin) { try restart($0) }
        routes.on("GET", "/api/admin/audit", limit: 5, access: .admin) { try auditLog($0) }
        routes.on("GET", "/api/admin/torrents", limit: 5, access: .admin) { _ in try torrents() }
        routes.on("GET", "/api/admin/jobs", limit: 5, access: .admin) { _ in try jobs() }
        routes.on("GET", "/api/metrics", limit: 10, access: .open) { try metrics($0) }
        routes.on("POST", "/api/admin/jobs/:name/run", limit: 2, access: .admin) { try runJob($0) }
        routes.on("GET", "/api/admin/jobs/:name/runs", limit: 5, access: .admin) { try jobRuns($0) }
    }

    /// Each background job's state (runs, failures, success rate, last duration/items/error,
    /// seconds to the next run).
    func jobs() throws -> Response {
        guard let engine = environment.engine, let json = try? engine.jobsJSON() else {
            throw APIError.handler(status: 503, message: "The streaming engine is not running")
        }
        return .json(bytes: json)
    }

    /// Prometheus text: the engine's jobs, torrents and streams. Admins, or a scraper with
    /// `Authorization: Bearer <METRICS_TOKEN>` (compared in constant time).
    func metrics(_ request: Request) throws -> Response {
        let token = environment.metricsToken
        let bearer = request.headers["Authorization"].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil } ?? ""
        let byToken = !token.isEmpty && Digest.constantTimeEqual(Array(bearer.utf8), Array(token.utf8))
        guard byToken || request.identity?.role == "admin" else {
            throw request.identity == nil ? APIError.unauthorized(detail: "Authentication required") : APIError.handler(status: 403, message: "Admin access required")
        }
        guard let engine = environment.engine, let text = try? engine.metricsText() else {
            throw APIError.handler(status: 503, message: "The streaming engine is not running")
        }
        var response = Response(status: 200, body: text)
        response.headers.set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        return response
    }

    /// One recorded run of a job.
    struct JobRunDTO: Encodable {
        var startedAt: Date
        var durationMs: Int?
        var status: String
        var items: Int
        var error: String?
    }

    /// A job's recorded runs, newest first (`?limit=`, 1–200, default 50). Idle runs of
    /// frequent jobs are only counted, not recorded; every failure is. 404 for a job the
    /// engine does not have and never ran.
    func jobRuns(_ request: Request) throws -> Response {
        let name = request.parameter("name") ?? ""
        var limit = 50
        if let text = request.query["limit"] {
            guard let value = Int(text), (1...200).contains(value) else {
                throw APIError.validation([ValidationIssue(path: ["limit"], code: "invalid_value", message: "limit must be 1 to 200")])
            }
            limit = value
        }
        let runs = try database.jobRuns(job: name, limit: limit)
        if runs.isEmpty {
            let known = (try? environment.engine?.jobsJSON()).flatMap { try? JSONSerialization.jsonObject(with: Data($0)) as? [[String: Any]] }
            guard known?.contains(where: { $0["name"] as? String == name }) == true else { throw APIError.handler(status: 404, message: "No such job") }
        }
        return .json(runs.map { run in
            JobRunDTO(startedAt: run.startedAt, durationMs: run.finishedAt.map { Int(($0.timeIntervalSince(run.startedAt) * 1000).rounded()) },
                      status: run.status, items: run.items, error: run.error)
        })
    }

    /// Runs a job now (the engine is woken by datagram); 404 for an unknown job.
    func runJob(_ request: Request) throws -> Response {
        let name = request.parameter("name") ?? ""
        guard let engine = environment.engine, let json = try? engine.jobsJSON(),
              let list = try? JSONSerialization.jsonObject(with: Data(json)) as? [[String: Any]] else {
            throw APIError.handler(status: 503, message: "The streaming engine is not running")
        }
        guard list.contains(where: { $0["name"] as? String == name }) else { throw APIError.handler(status: 404, message: "No such job") }
        environment.engineWaker?.wake(name)
        auth.event(.configurationChange, .info, "Admin ran job \(name)", email: request.identity?.email, request: request,
                   extra: ["job": .string(name)])
        return .json(["queued": name], status: 202)
    }

    /// The engine's open torrents (name, size, progress, speeds, peers, streams, errors).
    func torrents() throws -> Response {
        guard let engine = environment.engine, let json = try? engine.torrentsJSON() else {
            throw APIError.handler(status: 503, message: "The streaming engine is not running")
        }
        return .json(bytes: json)
    }

    func config() throws -> any ConfigurationAdministering {
        guard let configuration = environment.configuration else { throw APIError.handler(status: 503, message: "Configuration is not available") }
        return configuration
    }

    func update(_ request: Request) throws -> Response {
        let configuration = try config()
        let body = try Body.decode(ConfigUpdate.self, from: request)
        guard !body.entries.isEmpty, body.entries.count <= 100 else {
            throw APIError.validation([ValidationIssue(path: ["entries"], code: "too_small", message: "Send 1 to 100 entries")])
        }
        let changes = body.entries.map { (key: $0.key, value: $0.value) }
        switch configuration.check(changes) {
        case let .unknownKeys(keys):
            throw APIError.handler(status: 400, message: "Unknown configuration keys: \(keys.joined(separator: ", "))")
        case let .readOnlyKeys(keys):
            throw APIError.handler(status: 400, message: "These keys cannot be changed at runtime: \(keys.joined(separator: ", "))")
        case let .invalidKeys(keys):
            return .json(InvalidKeys(invalidKeys: keys), status: 400)
        case let .valid(restarting, needsProcessRestart):
            try configuration.apply(changes)
            auth.event(.configurationChange, .warning, "Configuration changed: \(changes.map(\.key).sorted().joined(separator: ", "))",
                       email: request.identity?.email, request: request,
                       extra: ["keys": .string(changes.map(\.key).sorted().joined(separator: ","))])
            configuration.reload()
            return .json(ConfigResult(success: true, restarting: restarting, needsProcessRestart: needsProcessRestart))
        }
    }

    func restart(_ request: Request) throws -> Response {
        let configuration = try config()
        let service = (request.parameter("service") ?? "").uppercased()
        guard configuration.services.contains(service) else {
            throw APIError.handler(status: 404, message: "Service '\(String(service.prefix(40)))' does not exist")
        }
        guard service != "SERVER" else {
            throw APIError.handler(status: 400, message: "Service 'SERVER' requires a process restart to apply configuration changes")
        }
        configuration.reload()
        let status = environment.status.status().services[service] ?? .ready
        struct Restarted: Encodable { var success: Bool; var status: ServiceStatus }
        return .json(Restarted(success: true, status: status))
    }

    func auditLog(_ request: Request) throws -> Response {
        let query = request.query
        var filter = AuditQuery()
        var issues: [ValidationIssue] = []
        if let types = query["eventType"], !types.isEmpty {
            for name in types.split(separator: ",") {
                if let kind = AuditEvent.Kind(rawValue: String(name)) { filter.kinds.append(kind) } else {
                    issues.append(ValidationIssue(path: ["eventType"], code: "invalid_value", message: "Unknown event type \(name.prefix(40))"))
                }
            }
        }
        if let severity = query["severity"] {
            if let value = AuditEvent.Severity(rawValue: severity.uppercased()) { filter.severity = value } else {
                issues.append(ValidationIssue(path: ["severity"], code: "invalid_value", message: "Unknown severity"))
            }
        }
        filter.userEmail = query["user"].flatMap { $0.isEmpty ? nil : $0 }
        for (name, keyPath) in [("from", \AuditQuery.from), ("to", \AuditQuery.to)] {
            guard let text = query[name] else { continue }
            if let date = ISO8601DateFormatter().date(from: text) { filter[keyPath: keyPath] = date } else {
                issues.append(ValidationIssue(path: [name], code: "invalid_format", message: "Expected an ISO-8601 date-time"))
            }
        }
        if let page = query["page"] {
            if let value = Int(page), value >= 1, value <= 1_000_000 { filter.page = value } else {
                issues.append(ValidationIssue(path: ["page"], code: "invalid_value", message: "page must be a positive integer"))
            }
        }
        if let limit = query["limit"] {
            if let value = Int(limit), (1...500).contains(value) { filter.limit = value } else {
                issues.append(ValidationIssue(path: ["limit"], code: "invalid_value", message: "limit must be 1 to 500"))
            }
        }
        if !issues.isEmpty { throw APIError.validation(issues) }
        environment.audit?.flush()
        let (rows, total) = try database.audit(filter)
        return .json(AuditPage(items: rows.map(AuditItem.init), total: total, page: filter.page, limit: filter.limit))
    }
}

import Domain
import Foundation
import WebCore

/// Times every API request into the stats: `http.request` (every request),
/// `http.request.success` or `http.request.error` (5xx, thrown errors) and one event per status
/// class (`http.status.2xx` …).
struct StatsMiddleware: Middleware {
    let stats: any StatsRecording

    func respond(to request: Request, next: any Responder) throws -> Response {
        let started = DispatchTime.now().uptimeNanoseconds
        func seconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9 }
        do {
            let response = try next.respond(to: request)
            record(status: response.status, seconds: seconds())
            return response
        } catch {
            record(status: (error as? APIError)?.response.status ?? 500, seconds: seconds())
            throw error
        }
    }

    func record(status: Int, seconds: Double) {
        stats.duration("http.request", seconds: seconds)
        stats.duration(status >= 500 ? "http.request.error" : "http.request.success", seconds: seconds)
        stats.event("http.status.\(status / 100)xx")
    }
}

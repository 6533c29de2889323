import BitTorrentCore
import BitTorrentProtocol
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The tracker seam: one blocking announce (run on the engine's thread pool, never on an
/// event loop). The real client speaks HTTP through an injected fetcher (libcurl, from App)
/// and UDP (BEP 15) itself; tests use an in-memory tracker.
public protocol TrackerClient: Sendable {
    func announce(url: String, request: AnnounceRequest) throws -> AnnounceResponse
}

/// Tracker failures not covered by `TrackerError`.
public enum TrackerTransportError: Error, Equatable, Sendable {
    case unsupportedScheme
    case unreachable(String)
    case timeout
}

/// HTTP(S) through `httpGet`, UDP through a socket bound to the engine's address.
public struct NetworkTrackerClient: TrackerClient {
    /// Fetches a URL's body (App passes libcurl with a short budget, bound like all torrent traffic).
    let httpGet: @Sendable (String) throws -> [UInt8]
    let bindAddress: String
    /// VPN_INTERFACE: UDP tracker sockets are bound to it (`SO_BINDTODEVICE`).
    var interface: String?
    /// BEP 15 retransmission: attempts per request and the first wait (doubling).
    var udpAttempts = 3
    var udpTimeout = 1.0

    public init(bindAddress: String, interface: String? = nil, httpGet: @escaping @Sendable (String) throws -> [UInt8]) {
        self.bindAddress = bindAddress
        self.interface = interface
        self.httpGet = httpGet
    }

    public func announce(url: String, request: AnnounceRequest) throws -> AnnounceResponse {
        if url.hasPrefix("http://") || url.hasPrefix("https://") {
            return try HTTPTracker.parseAnnounce(httpGet(HTTPTracker.announceURL(url, request)))
        }
        guard url.hasPrefix("udp://") else { throw TrackerTransportError.unsupportedScheme }
        return try udpAnnounce(url: url, request: request)
    }

    /// Seeders/leechers/completed per info-hash from one tracker's scrape (BEP 48 over
    /// HTTP, BEP 15 over UDP). Blocking.
    public func scrape(url: String, infoHashes: [InfoHash]) throws -> [InfoHash: (seeders: Int, leechers: Int, completed: Int)] {
        if url.hasPrefix("http://") || url.hasPrefix("https://") {
            guard let scrapeURL = HTTPTracker.scrapeURL(url, infoHashes: infoHashes) else { throw TrackerTransportError.unsupportedScheme }
            return try HTTPTracker.parseScrape(httpGet(scrapeURL))
        }
        guard url.hasPrefix("udp://") else { throw TrackerTransportError.unsupportedScheme }
        let socket = try udpSocket(url)
        defer { socket.close() }
        let connection = try udpConnect(socket)
        var random = SystemRandomNumberGenerator()
        let scrapeID = UInt32.random(in: .min ... .max, using: &random)
        let hashes = Array(infoHashes.prefix(74))
        return try exchange(socket, UDPTracker.scrapeRequest(connectionID: connection, transactionID: scrapeID, infoHashes: hashes)) { packet throws(TrackerError) in
            try UDPTracker.parseScrape(packet, transactionID: scrapeID, infoHashes: hashes)
        }
    }

    func udpSocket(_ url: String) throws -> UDPSocket {
        let hostPort = url.dropFirst("udp://".count).split(separator: "/", maxSplits: 1).first.map(String.init) ?? ""
        guard let colon = hostPort.lastIndex(of: ":"), let port = UInt16(hostPort[hostPort.index(after: colon)...]) else {
            throw TrackerTransportError.unreachable("bad udp tracker address")
        }
        let host = String(hostPort[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return try UDPSocket(host: host, port: port, bindAddress: bindAddress, interface: interface)
    }

    func udpAnnounce(url: String, request: AnnounceRequest) throws -> AnnounceResponse {
        let socket = try udpSocket(url)
        defer { socket.close() }
        let connection = try udpConnect(socket)
        var random = SystemRandomNumberGenerator()
        let announceID = UInt32.random(in: .min ... .max, using: &random)
        return try exchange(socket, UDPTracker.announceRequest(connectionID: connection, transactionID: announceID, request)) { packet throws(TrackerError) in
            try UDPTracker.parseAnnounce(packet, transactionID: announceID)
        }
    }

    /// BEP 15's connect step: the connection id the next request carries.
    func udpConnect(_ socket: UDPSocket) throws -> UInt64 {
        var random = SystemRandomNumberGenerator()
        let connectID = UInt32.random(in: .min ... .max, using: &random)
        return try exchange(socket, UDPTracker.connectRequest(transactionID: connectID)) { packet throws(TrackerError) in
            try UDPTracker.parseConnect(packet, transactionID: connectID)
        }
    }

    func exchange<T>(_ socket: UDPSocket, _ packet: [UInt8], parse: ([UInt8]) throws(TrackerError) -> T) throws -> T {
        var wait = udpTimeout
        for _ in 0..<udpAttempts {
            try socket.send(packet)
            let deadline = Date().addingTimeInterval(wait)
            while let reply = try socket.receive(until: deadline) {
                do { return try parse(reply) } catch TrackerError.transactionMismatch { continue }
            }
            wait *= 2
        }
        throw TrackerTransportError.timeout
    }
}

/// A connected UDP socket with a receive deadline.
final class UDPSocket {
    let fd: Int32

    init(host: String, port: UInt16, bindAddress: String, interface: String? = nil) throws {
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else {
            throw TrackerTransportError.unreachable("cannot resolve tracker")
        }
        defer { freeaddrinfo(list) }
        fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TrackerTransportError.unreachable("socket") }
        if let interface {
            // Fail closed: a socket that cannot be tied to the VPN interface sends nothing.
            let bound = interface.withCString { setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, $0, socklen_t(strlen($0) + 1)) }
            guard bound == 0 else { Glibc.close(fd); throw TrackerTransportError.unreachable("interface") }
        }
        if bindAddress != "0.0.0.0" {
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            inet_pton(AF_INET, bindAddress, &local.sin_addr)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else { Glibc.close(fd); throw TrackerTransportError.unreachable("bind") }
        }
        guard connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            Glibc.close(fd)
            throw TrackerTransportError.unreachable("connect")
        }
    }

    func send(_ packet: [UInt8]) throws {
        let sent = packet.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
        guard sent == packet.count else { throw TrackerTransportError.unreachable("send") }
    }

    /// The next datagram, or nil at the deadline.
    func receive(until deadline: Date) throws -> [UInt8]? {
        while true {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { return nil }
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(remaining * 1000) + 1)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { return nil }
            var buffer = [UInt8](repeating: 0, count: 2048)
            let got = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if got < 0 {
                if errno == EINTR { continue }
                throw TrackerTransportError.unreachable("recv")
            }
            return Array(buffer[0..<got])
        }
    }

    func close() { Glibc.close(fd) }
}

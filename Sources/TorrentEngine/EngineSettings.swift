/// What the engine is told by configuration (App maps the variables of docs/configuration).
public struct EngineSettings: Sendable {
    /// Address peer connections bind to and listen on (the VPN issue binds it to the tunnel).
    public var bindAddress: String
    /// Incoming peer port; 0 picks a free one (announced to trackers as bound).
    public var listenPort: Int
    /// CONTENT_CONNECTION_LIMIT: peer connections across all torrents.
    public var connectionLimit: Int
    /// CONTENT_DOWNLOAD_LIMIT / CONTENT_UPLOAD_LIMIT in bytes per second (0 = unlimited).
    public var downloadLimit: Double
    public var uploadLimit: Double
    /// STATIC_TRACKERS: announce URLs added to every torrent as a last tier.
    public var staticTrackers: [String]
    /// DOWNLOAD_PATH: torrents live under `<downloadPath>/<info-hash>/`.
    public var downloadPath: String
    /// Peers we upload to at once (regular unchoke slots plus one optimistic).
    public var uploadSlots: Int
    /// Requests kept in flight per peer.
    public var pipelineDepth: Int
    /// A request not answered in this many seconds is re-requested elsewhere.
    public var requestTimeout: Double
    /// TORRENT_IDLE_TIMEOUT: a torrent no stream has read for this long stops (peers closed,
    /// `stopped` announced); its files stay for a quick resume until evicted.
    public var idleTimeout: Double = 1800
    /// STORAGE_ENCRYPTION: the master key and salt of the encrypted chunk store (nil: plain files).
    public var chunkEncryption: (master: [UInt8], salt: [UInt8])?
    /// VPN_INTERFACE's index: every peer socket is bound to it (`SO_BINDTOIFINDEX`), so the
    /// kernel never routes peer traffic through another interface.
    public var interfaceIndex: Int32?
    /// Start with the network closed (the VPN is down): no listener, no peers, no trackers
    /// until `setNetwork(allowed: true, …)`.
    public var startsBlocked = false
    /// The mainline DHT (BEP 5) on UDP at the peer address and port; off with DISABLE_DISCOVERY.
    public var dhtEnabled = false
    /// DHT_BOOTSTRAP_NODES: `host:port` routers asked for our neighbourhood when the table is thin.
    public var dhtBootstrapNodes: [String] = []
    /// Where the routing table (and our node id) is kept across restarts.
    public var dhtStatePath: String?
    /// Peer exchange (BEP 11, `ut_pex`); off with DISABLE_DISCOVERY.
    public var pexEnabled = false
    /// PEER_ENCRYPTION: MSE/PE for peer connections.
    public var peerEncryption: PeerEncryption = .prefer

    public init(bindAddress: String = "0.0.0.0", listenPort: Int = 0, connectionLimit: Int = 100,
                downloadLimit: Double = 0, uploadLimit: Double = 0, staticTrackers: [String] = [],
                downloadPath: String, uploadSlots: Int = 8, pipelineDepth: Int = 250, requestTimeout: Double = 8) {
        self.bindAddress = bindAddress
        self.listenPort = listenPort
        self.connectionLimit = connectionLimit
        self.downloadLimit = downloadLimit
        self.uploadLimit = uploadLimit
        self.staticTrackers = staticTrackers
        self.downloadPath = downloadPath
        self.uploadSlots = uploadSlots
        self.pipelineDepth = pipelineDepth
        self.requestTimeout = requestTimeout
    }
}

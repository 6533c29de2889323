// FROZEN: a migration never changes once it has landed; add a new one instead.
//
// The VPN kill switch's state as the engine last saw it (for /api/status).
enum Migration013VPNState {
    static let identifier = "013-vpn-state"

    static let sql = """
    ALTER TABLE engine_state ADD COLUMN vpnInterface TEXT;
    ALTER TABLE engine_state ADD COLUMN vpnUp BOOLEAN;
    ALTER TABLE engine_state ADD COLUMN vpnReason TEXT;
    ALTER TABLE engine_state ADD COLUMN vpnAddress TEXT;
    ALTER TABLE engine_state ADD COLUMN vpnSince DATETIME;
    """
}

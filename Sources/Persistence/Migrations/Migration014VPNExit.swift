// FROZEN: a migration never changes once it has landed; add a new one instead.
//
// The VPN's exit as an insights endpoint (VPN_CHECK_URL) last saw it.
enum Migration014VPNExit {
    static let identifier = "014-vpn-exit"

    static let sql = """
    ALTER TABLE engine_state ADD COLUMN vpnExitIp TEXT;
    ALTER TABLE engine_state ADD COLUMN vpnProtected BOOLEAN;
    ALTER TABLE engine_state ADD COLUMN vpnCheckedAt DATETIME;
    """
}

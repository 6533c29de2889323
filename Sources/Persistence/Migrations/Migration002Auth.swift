// FROZEN: a migration never changes once it has landed; add a new one instead.
//
// Refresh-token reuse detection: every rotated-away token hash is remembered for the life of
// its session, so replaying one is recognised (and revokes the session) instead of being a
// plain "invalid token". Audit queries filter by user, severity and time.
enum Migration002Auth {
    static let identifier = "002-auth-history-and-audit-indexes"

    static let sql = """
    CREATE TABLE refresh_token_history (
        tokenHash VARCHAR(64) PRIMARY KEY NOT NULL,
        refreshTokenId TEXT NOT NULL REFERENCES refresh_tokens(id) ON DELETE CASCADE,
        rotatedAt DATETIME NOT NULL
    );
    CREATE INDEX idx_refresh_token_history_token ON refresh_token_history(refreshTokenId);
    CREATE INDEX idx_audit_logs_userEmail ON audit_logs(userEmail, createdAt);
    CREATE INDEX idx_audit_logs_severity ON audit_logs(severity, createdAt);
    """
}

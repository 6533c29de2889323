// FROZEN: a migration never changes once it has landed; add a new one instead.
//
// Device login: the name a TV gives itself (shown to the approving user) and when it last
// polled (polling faster than the interval is refused with slow_down).
enum Migration010DeviceLogin {
    static let identifier = "010-device-login"

    static let sql = """
    ALTER TABLE device_code ADD COLUMN deviceName TEXT;
    ALTER TABLE device_code ADD COLUMN lastPolledAt DATETIME;
    """
}

/// What a user may do. `guest` browses but cannot stream or change anything; `admin` also
/// manages users and configuration.
public enum Role: String, Sendable, Codable, CaseIterable {
    case admin
    case user
    case guest
}

import Testing
@testable import Domain

@Suite struct EmailAddressTests {
    @Test(arguments: ["a@b.co", "admin@vm.local", "first.last+tag@sub.example.org", "me@localhost"])
    func accepts(_ email: String) { #expect(EmailAddress.isValid(email)) }

    @Test(arguments: ["", "plain", "@b.co", "a@", "a@b", "a b@c.de", "a@@b.co", "a@.b.co", "a@b..co",
                      String(repeating: "x", count: 65) + "@b.co"])
    func refuses(_ email: String) { #expect(!EmailAddress.isValid(email)) }
}

@Suite struct PasswordPolicyTests {
    @Test func rules() {
        #expect(PasswordPolicy.violation(password: "short", email: "a@b.co") != nil)
        #expect(PasswordPolicy.violation(password: "Person@Home.org", email: "person@home.org") == "Password must not be the e-mail address")
        #expect(PasswordPolicy.violation(password: String(repeating: "é", count: 600), email: "a@b.co") != nil)
        #expect(PasswordPolicy.violation(password: "correct horse", email: "a@b.co") == nil)
    }

    @Test func generatedPasswordsHaveEveryClass() {
        var state: UInt64 = 42
        for _ in 0..<200 {
            let password = PasswordPolicy.generate { n in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return Int((state >> 33) % UInt64(n))
            }
            #expect(password.count == 24)
            #expect(password.contains { $0.isLowercase })
            #expect(password.contains { $0.isUppercase })
            #expect(password.contains { $0.isNumber })
            #expect(password.contains { "!@#$%^&*()_+-=[]{}|;:,.<>?".contains($0) })
        }
    }
}

import Foundation

@Suite struct AuditJSONTests {
    @Test func serialisesValidSortedJSON() throws {
        let metadata: [String: AuditValue] = ["b": "x\"y\\z\n\u{01}é😀", "a": .int(-3), "headers": .map(["user-agent": "curl/8", "cookie": "REDACTED"])]
        let text = AuditValue.json(metadata)
        #expect(text.hasPrefix(#"{"a":-3,"b":"#))
        let decoded = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        #expect(decoded?["b"] as? String == "x\"y\\z\n\u{01}é😀")
        #expect((decoded?["headers"] as? [String: String])?["cookie"] == "REDACTED")
        #expect(AuditValue.json([:]) == "{}")
    }
}

@Suite struct DeviceUserCodeTests {
    struct Counter: RandomNumberGenerator {
        var state: UInt64 = 0
        mutating func next() -> UInt64 { state &+= 0x9E37_79B9_7F4A_7C15; return state }
    }

    @Test func codesAreEightUnambiguousCharactersShownWithADash() {
        var generator = Counter()
        let code = DeviceUserCode.random(using: &generator)
        #expect(code.value.count == 8 && code.value.allSatisfy(DeviceUserCode.alphabet.contains))
        #expect(code.formatted.count == 9 && code.formatted.dropFirst(4).first == "-")
        #expect(!DeviceUserCode.alphabet.contains(where: { "AEIOU01L".contains($0) }))
        #expect(DeviceUserCode.random(using: &generator) != code)
    }

    @Test func typedCodesIgnoreCaseSpacesAndDashesButNothingElse() {
        #expect(DeviceUserCode(typed: "bcdf-2345")?.value == "BCDF2345")
        #expect(DeviceUserCode(typed: " BCDF 2345 ")?.value == "BCDF2345")
        #expect(DeviceUserCode(typed: "BCDF-234") == nil)
        #expect(DeviceUserCode(typed: "BCDF-2340") == nil, "0 is not in the alphabet")
        #expect(DeviceUserCode(typed: "BCDF-2345-X") == nil)
    }
}

@Suite struct VPNGuardTests {
    let up = InterfaceObservation(exists: true, up: true, ipv4: "10.8.0.2", index: 7)

    @Test func nothingIsAllowedBeforeTheFirstGoodObservation() {
        var vpn = VPNGuard()
        #expect(!vpn.allowsTraffic)
        #expect(vpn.observe(InterfaceObservation(exists: false, up: false, ipv4: nil, index: 0), now: 1) == .wentDown(reason: "missing"))
        #expect(!vpn.allowsTraffic)
        #expect(vpn.observe(up, now: 2) == .cameUp(address: "10.8.0.2", index: 7))
        #expect(vpn.allowsTraffic && vpn.since == 2)
    }

    @Test func downNoAddressAndBackAreEachOneAction() {
        var vpn = VPNGuard()
        _ = vpn.observe(up, now: 0)
        #expect(vpn.observe(up, now: 1) == nil, "no change, no action")
        var linkDown = up
        linkDown.up = false
        #expect(vpn.observe(linkDown, now: 2) == .wentDown(reason: "down"))
        #expect(vpn.observe(linkDown, now: 3) == nil)
        var bare = up
        bare.ipv4 = nil
        #expect(vpn.observe(bare, now: 4) == .wentDown(reason: "no-address"), "a new reason is reported")
        #expect(vpn.since == 2, "down since the first failure")
        #expect(vpn.observe(up, now: 5) == .cameUp(address: "10.8.0.2", index: 7))
        var moved = up
        moved.ipv4 = "10.8.0.9"
        #expect(vpn.observe(moved, now: 6) == .rebound(address: "10.8.0.9", index: 7))
        #expect(vpn.allowsTraffic && vpn.since == 5)
    }
}

import ArgumentParser
import QRCode

/// `miauflix qr <text>`: prints the QR code of a text as SVG (the device-login screen's
/// encoder; handy for a printed sign-in card and for testing against a real decoder).
struct QRCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "qr", abstract: "Print a QR code of TEXT as SVG.")

    @Argument(help: "The text to encode (at most 213 bytes).")
    var text: String

    func run() throws {
        do {
            print(try QRCode(text: text).svg())
        } catch {
            throw ValidationError("The text is \(text.utf8.count) bytes; a QR code here holds at most \(QRCode.maximumBytes).")
        }
    }
}

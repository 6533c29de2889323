import Foundation

/// The one JSON encoder/decoder configuration of the API.
///
/// Keys are sorted so that bodies are byte-stable (golden tests, caching); slashes are not
/// escaped because clients compare URLs.
public enum JSON {
    /// Encodes a value; encoding our own DTOs cannot fail, so a failure is a programming error
    /// reported as a generic JSON error object rather than a crash.
    public static func encode<T: Encodable>(_ value: T) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        do {
            return Array(try encoder.encode(value))
        } catch {
            return Array(#"{"error":"Internal Server Error"}"#.utf8)
        }
    }

    /// Decodes a request body. Throws `APIError.malformedJSON` for bytes that are not JSON and
    /// `APIError.validation` for JSON of the wrong shape.
    public static func decodeBody<T: Decodable>(_ type: T.Type, from body: [UInt8]) throws(APIError) -> T {
        let data = Data(body)
        do {
            _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw APIError.malformedJSON
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw APIError.validation([ValidationIssue(path: (context.codingPath + [key]).map(\.stringValue),
                                                       code: "invalid_type", message: "Required")])
        } catch let DecodingError.typeMismatch(type, context) {
            throw APIError.validation([ValidationIssue(path: context.codingPath.map(\.stringValue),
                                                       code: "invalid_type", message: "Expected \(type)")])
        } catch let DecodingError.valueNotFound(type, context) {
            throw APIError.validation([ValidationIssue(path: context.codingPath.map(\.stringValue),
                                                       code: "invalid_type", message: "Expected \(type), received null")])
        } catch {
            throw APIError.validation([ValidationIssue(path: [], code: "custom", message: "Invalid body")])
        }
    }
}

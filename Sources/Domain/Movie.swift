/// A movie as stored (database-first): original texts plus every translation.
public struct Movie: Sendable, Equatable {
    /// Texts of one language.
    public struct Texts: Sendable, Equatable {
        public var title: String
        public var overview: String
        public var tagline: String
        public init(title: String, overview: String, tagline: String) {
            self.title = title
            self.overview = overview
            self.tagline = tagline
        }
    }

    /// A genre with its names per language.
    public struct Genre: Sendable, Equatable {
        public var id: Int
        public var names: [String: String]
        public init(id: Int, names: [String: String]) {
            self.id = id
            self.names = names
        }
    }

    /// Internal id (0 before it is stored).
    public var id: Int
    public var tmdbId: Int
    public var imdbId: String?
    public var original: Texts
    public var releaseDate: String
    public var runtime: Int
    /// Full image URLs or "".
    public var poster: String
    public var backdrop: String
    public var logo: String
    public var trailer: String?
    public var popularity: Double
    public var rating: Double
    public var genres: [Genre]
    /// Language code (`es`, `pt-BR`) → texts.
    public var translations: [String: Texts]
    /// False for a row that only came from a list page (details not fetched yet).
    public var detailsComplete: Bool

    /// Creates a movie value.
    public init(id: Int = 0, tmdbId: Int, imdbId: String?, original: Texts, releaseDate: String, runtime: Int,
                poster: String, backdrop: String, logo: String, trailer: String? = nil, popularity: Double, rating: Double,
                genres: [Genre], translations: [String: Texts], detailsComplete: Bool = true) {
        self.id = id
        self.tmdbId = tmdbId
        self.imdbId = imdbId
        self.original = original
        self.releaseDate = releaseDate
        self.runtime = runtime
        self.poster = poster
        self.backdrop = backdrop
        self.logo = logo
        self.trailer = trailer
        self.popularity = popularity
        self.rating = rating
        self.genres = genres
        self.translations = translations
        self.detailsComplete = detailsComplete
    }

    /// Texts for `language` (reference §4.6): each field from the matching translation when
    /// it is non-empty (exact code, then its base language), else the original.
    public func texts(for language: String) -> Texts {
        let base = String(language.prefix { $0 != "-" && $0 != "_" })
        let candidates = [translations[language], translations[base]].compactMap { $0 }
        func pick(_ field: KeyPath<Texts, String>) -> String {
            candidates.lazy.map { $0[keyPath: field] }.first { !$0.isEmpty } ?? original[keyPath: field]
        }
        return Texts(title: pick(\.title), overview: pick(\.overview), tagline: pick(\.tagline))
    }

    /// Genre names for `language`: that language → `en` → any known → `Genre <id>`.
    public func genreNames(for language: String) -> [String] {
        let base = String(language.prefix { $0 != "-" && $0 != "_" })
        return genres.map { genre in
            genre.names[language] ?? genre.names[base] ?? genre.names["en"]
                ?? genre.names.keys.sorted().first.flatMap { genre.names[$0] } ?? "Genre \(genre.id)"
        }
    }
}

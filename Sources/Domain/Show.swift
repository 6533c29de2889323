/// A TV show as stored, with its season list (episodes live in `Season`).
public struct Show: Sendable, Equatable {
    /// A season as the show lists it.
    public struct SeasonRef: Sendable, Equatable {
        public var id: Int
        public var tmdbId: Int
        public var seasonNumber: Int
        public var name: String
        public var overview: String
        public var airDate: String?
        public var poster: String?
        public init(id: Int = 0, tmdbId: Int, seasonNumber: Int, name: String, overview: String, airDate: String?, poster: String?) {
            self.id = id
            self.tmdbId = tmdbId
            self.seasonNumber = seasonNumber
            self.name = name
            self.overview = overview
            self.airDate = airDate
            self.poster = poster
        }
    }

    public var id: Int
    public var tmdbId: Int
    public var imdbId: String?
    public var original: Movie.Texts
    public var firstAirDate: String?
    public var lastAirDate: String?
    public var poster: String
    public var backdrop: String
    public var popularity: Double
    public var rating: Double
    public var status: String
    public var type: String
    public var inProduction: Bool
    public var episodeRunTime: [Int]
    public var genres: [Movie.Genre]
    public var translations: [String: Movie.Texts]
    public var seasons: [SeasonRef]
    public var detailsComplete: Bool

    public init(id: Int = 0, tmdbId: Int, imdbId: String?, original: Movie.Texts, firstAirDate: String?, lastAirDate: String?,
                poster: String, backdrop: String, popularity: Double, rating: Double, status: String, type: String,
                inProduction: Bool, episodeRunTime: [Int], genres: [Movie.Genre], translations: [String: Movie.Texts],
                seasons: [SeasonRef], detailsComplete: Bool = true) {
        self.id = id
        self.tmdbId = tmdbId
        self.imdbId = imdbId
        self.original = original
        self.firstAirDate = firstAirDate
        self.lastAirDate = lastAirDate
        self.poster = poster
        self.backdrop = backdrop
        self.popularity = popularity
        self.rating = rating
        self.status = status
        self.type = type
        self.inProduction = inProduction
        self.episodeRunTime = episodeRunTime
        self.genres = genres
        self.translations = translations
        self.seasons = seasons
        self.detailsComplete = detailsComplete
    }

    var asMovie: Movie {
        Movie(tmdbId: tmdbId, imdbId: imdbId, original: original, releaseDate: firstAirDate ?? "", runtime: 0, poster: poster,
              backdrop: backdrop, logo: "", popularity: popularity, rating: rating, genres: genres, translations: translations)
    }

    /// Texts for `language` (same rules as movies).
    public func texts(for language: String) -> Movie.Texts { asMovie.texts(for: language) }
    /// Genre names for `language`.
    public func genreNames(for language: String) -> [String] { asMovie.genreNames(for: language) }
}

/// One season with its episodes.
public struct Season: Sendable, Equatable {
    /// One episode.
    public struct Episode: Sendable, Equatable {
        public var id: Int
        public var tmdbId: Int
        public var episodeNumber: Int
        public var name: String
        public var overview: String
        public var airDate: String?
        public var still: String
        public var runtime: Int?
        public init(id: Int = 0, tmdbId: Int, episodeNumber: Int, name: String, overview: String, airDate: String?, still: String, runtime: Int?) {
            self.id = id
            self.tmdbId = tmdbId
            self.episodeNumber = episodeNumber
            self.name = name
            self.overview = overview
            self.airDate = airDate
            self.still = still
            self.runtime = runtime
        }
    }

    public var ref: Show.SeasonRef
    public var episodes: [Episode]

    public init(ref: Show.SeasonRef, episodes: [Episode]) {
        self.ref = ref
        self.episodes = episodes
    }
}

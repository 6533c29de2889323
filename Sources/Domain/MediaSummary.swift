import Foundation

/// A title as a list shows it: enough for a poster card, without fetching its details.
public struct MediaSummary: Sendable, Equatable {
    /// Movie or show.
    public enum Kind: String, Sendable { case movie, show }

    public var kind: Kind
    /// Internal id (0 before it is stored).
    public var id: Int
    public var tmdbId: Int
    public var imdbId: String?
    /// Title (movies) or name (shows), original language.
    public var title: String
    public var overview: String
    public var tagline: String
    public var poster: String
    public var backdrop: String
    public var logo: String
    public var popularity: Double
    public var rating: Double
    /// Release date (movies) or first air date (shows).
    public var date: String
    public var runtime: Int
    public var episodeRunTime: [Int]
    public var showType: String
    public var inProduction: Bool
    public var genres: [Movie.Genre]
    public var translations: [String: Movie.Texts]
    public var createdAt: Date
    public var updatedAt: Date

    /// Creates a summary.
    public init(kind: Kind, id: Int = 0, tmdbId: Int, imdbId: String? = nil, title: String, overview: String, tagline: String = "",
                poster: String, backdrop: String, logo: String = "", popularity: Double, rating: Double, date: String,
                runtime: Int = 0, episodeRunTime: [Int] = [], showType: String = "", inProduction: Bool = false,
                genres: [Movie.Genre], translations: [String: Movie.Texts] = [:], createdAt: Date = Date(timeIntervalSince1970: 0),
                updatedAt: Date = Date(timeIntervalSince1970: 0)) {
        self.kind = kind
        self.id = id
        self.tmdbId = tmdbId
        self.imdbId = imdbId
        self.title = title
        self.overview = overview
        self.tagline = tagline
        self.poster = poster
        self.backdrop = backdrop
        self.logo = logo
        self.popularity = popularity
        self.rating = rating
        self.date = date
        self.runtime = runtime
        self.episodeRunTime = episodeRunTime
        self.showType = showType
        self.inProduction = inProduction
        self.genres = genres
        self.translations = translations
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// The same language rules as `Movie`.
    var asMovie: Movie {
        Movie(id: id, tmdbId: tmdbId, imdbId: imdbId, original: .init(title: title, overview: overview, tagline: tagline),
              releaseDate: date, runtime: runtime, poster: poster, backdrop: backdrop, logo: logo, popularity: popularity,
              rating: rating, genres: genres, translations: translations)
    }

    /// Texts for `language` (translation, base language, then original).
    public func texts(for language: String) -> Movie.Texts { asMovie.texts(for: language) }
    /// Genre names for `language`.
    public func genreNames(for language: String) -> [String] { asMovie.genreNames(for: language) }
}

/// One of the catalog's lists.
public struct MediaListInfo: Sendable, Equatable {
    public var slug: String
    public var name: String
    public var description: String
    public var kind: MediaSummary.Kind

    public init(slug: String, name: String, description: String, kind: MediaSummary.Kind) {
        self.slug = slug
        self.name = name
        self.description = description
        self.kind = kind
    }

    /// Lists beyond the original's: this week's trending movies and shows.
    public static let trending: [MediaListInfo] = [
        .init(slug: "@@tmdb_movies_trending", name: "Trending Movies", description: "Movies trending on TMDB this week", kind: .movie),
        .init(slug: "@@tmdb_shows_trending", name: "Trending TV Shows", description: "TV shows trending on TMDB this week", kind: .show),
    ]

    /// The list of popular movies of one genre.
    public static func genre(id: Int, name: String) -> MediaListInfo {
        .init(slug: "@@tmdb_movies_genre_\(id)", name: "\(name) Movies", description: "Popular \(name.lowercased()) movies from TMDB", kind: .movie)
    }

    /// The genre id of a genre list's slug.
    public static func genreID(of slug: String) -> Int? {
        guard slug.hasPrefix("@@tmdb_movies_genre_") else { return nil }
        return Int(slug.dropFirst("@@tmdb_movies_genre_".count))
    }

    /// The original's three TMDB lists (reference §2.10).
    public static let builtIn: [MediaListInfo] = [
        .init(slug: "@@tmdb_movies_popular", name: "Popular Movies", description: "List of popular movies from TMDB", kind: .movie),
        .init(slug: "@@tmdb_movies_top-rated", name: "Top Rated Movies", description: "List of top rated movies from TMDB", kind: .movie),
        .init(slug: "@@tmdb_shows_popular", name: "Popular TV Shows", description: "List of popular TV shows from TMDB", kind: .show),
    ]
}

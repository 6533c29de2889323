/// TMDB v3 response shapes we read (unknown fields are ignored; missing optional ones are fine).
struct TMDBMovieResponse: Decodable {
    struct GenreRef: Decodable { var id: Int; var name: String? }
    struct Translation: Decodable {
        struct Data: Decodable { var title: String?; var overview: String?; var tagline: String?; var runtime: Int? }
        var iso_639_1: String?
        var iso_3166_1: String?
        var data: Data?
    }
    struct Translations: Decodable { var translations: [Translation]? }
    struct Image: Decodable { var file_path: String?; var iso_639_1: String? }
    struct Images: Decodable { var logos: [Image]? }
    struct Video: Decodable { var key: String?; var site: String?; var type: String? }
    struct Videos: Decodable { var results: [Video]? }

    var id: Int
    var imdb_id: String?
    var title: String?
    var overview: String?
    var tagline: String?
    var release_date: String?
    var runtime: Int?
    var poster_path: String?
    var backdrop_path: String?
    var popularity: Double?
    var vote_average: Double?
    var genres: [GenreRef]?
    var translations: Translations?
    var images: Images?
    var videos: Videos?
}

struct TMDBConfigurationResponse: Decodable {
    struct Images: Decodable { var secure_base_url: String? }
    var images: Images?
}

struct TMDBPageResponse: Decodable {
    struct Item: Decodable {
        var id: Int
        var title: String?
        var name: String?
        var overview: String?
        var poster_path: String?
        var backdrop_path: String?
        var popularity: Double?
        var vote_average: Double?
        var release_date: String?
        var first_air_date: String?
        var genre_ids: [Int]?
    }
    var page: Int?
    var results: [Item]?
    var total_pages: Int?
}

struct TMDBGenreListResponse: Decodable {
    struct Genre: Decodable { var id: Int; var name: String? }
    var genres: [Genre]?
}

struct TMDBShowResponse: Decodable {
    struct Season: Decodable {
        var id: Int?
        var season_number: Int?
        var name: String?
        var overview: String?
        var air_date: String?
        var poster_path: String?
    }
    struct ExternalIDs: Decodable { var imdb_id: String? }
    struct Translation: Decodable {
        struct Data: Decodable { var name: String?; var overview: String?; var tagline: String? }
        var iso_639_1: String?
        var iso_3166_1: String?
        var data: Data?
    }
    struct Translations: Decodable { var translations: [Translation]? }

    var id: Int
    var name: String?
    var overview: String?
    var tagline: String?
    var first_air_date: String?
    var last_air_date: String?
    var poster_path: String?
    var backdrop_path: String?
    var popularity: Double?
    var vote_average: Double?
    var status: String?
    var type: String?
    var in_production: Bool?
    var episode_run_time: [Int]?
    var genres: [TMDBMovieResponse.GenreRef]?
    var seasons: [Season]?
    var external_ids: ExternalIDs?
    var translations: Translations?
}

struct TMDBSeasonResponse: Decodable {
    struct Episode: Decodable {
        var id: Int
        var episode_number: Int?
        var name: String?
        var overview: String?
        var air_date: String?
        var still_path: String?
        var runtime: Int?
    }
    var id: Int?
    var season_number: Int?
    var name: String?
    var overview: String?
    var air_date: String?
    var poster_path: String?
    var episodes: [Episode]?
}

struct TMDBSearchResponse: Decodable {
    struct Item: Decodable {
        var id: Int
        var media_type: String?
        var title: String?
        var name: String?
        var overview: String?
        var poster_path: String?
        var backdrop_path: String?
        var popularity: Double?
        var vote_average: Double?
        var release_date: String?
        var first_air_date: String?
    }
    var results: [Item]?
    var total_pages: Int?
}

struct TMDBChangesResponse: Decodable {
    struct Item: Decodable { var id: Int }
    var results: [Item]?
    var page: Int?
    var total_pages: Int?
}

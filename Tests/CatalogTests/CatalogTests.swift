import Domain
import Foundation
import Testing
@testable import Catalog

@Suite struct TMDBMappingTests {
    @Test func mapsARecordedAnswer() throws {
        let json = """
        {"id": 278, "imdb_id": "tt0111161", "title": "Oral Puma", "overview": "o", "tagline": "", "release_date": "1994-09-23",
         "runtime": 0, "poster_path": "/p.jpg", "backdrop_path": null, "popularity": 12.5, "vote_average": 8.7,
         "genres": [{"id": 18, "name": "Drama"}],
         "translations": {"translations": [{"iso_639_1": "es", "iso_3166_1": "MX", "data": {"title": "Shiny", "runtime": 142}},
                                            {"iso_639_1": "es", "iso_3166_1": "ES", "data": {"title": "Weasel"}}]},
         "images": {"logos": [{"file_path": "/logo.png"}]}, "unknown_field": [1, 2]}
        """
        let raw = try JSONDecoder().decode(TMDBMovieResponse.self, from: Data(json.utf8))
        let movie = TMDBMapping.movie(raw, imageBase: "https://image.tmdb.org/t/p/")
        #expect(movie.poster == "https://image.tmdb.org/t/p/original/p.jpg")
        #expect(movie.backdrop == "")
        #expect(movie.logo == "https://image.tmdb.org/t/p/original/logo.png")
        #expect(movie.runtime == 142, "falls back to the first translation with a runtime")
        #expect(movie.translations["es"]?.title == "Shiny")
        #expect(movie.translations["es-ES"]?.title == "Weasel")
        #expect(movie.genres == [Movie.Genre(id: 18, names: ["en": "Drama"])])
    }
}

@Suite struct MovieLocalizationTests {
    let movie = Movie(tmdbId: 1, imdbId: nil, original: .init(title: "Original", overview: "O", tagline: "T"), releaseDate: "",
                      runtime: 0, poster: "", backdrop: "", logo: "", popularity: 0, rating: 0,
                      genres: [.init(id: 18, names: ["en": "Drama", "es": "Drama (es)"]), .init(id: 99, names: [:]),
                               .init(id: 7, names: ["fr": "Sept"])],
                      translations: ["es": .init(title: "Título", overview: "", tagline: "Lema"),
                                     "pt-BR": .init(title: "Título BR", overview: "Sinopse", tagline: "")])

    @Test func textsFallBackFieldByField() {
        #expect(movie.texts(for: "es") == .init(title: "Título", overview: "O", tagline: "Lema"))
        #expect(movie.texts(for: "es-MX") == .init(title: "Título", overview: "O", tagline: "Lema"), "base language")
        #expect(movie.texts(for: "pt-BR") == .init(title: "Título BR", overview: "Sinopse", tagline: "T"))
        #expect(movie.texts(for: "de") == movie.original)
    }

    @Test func genreNameFallbackChain() {
        #expect(movie.genreNames(for: "es") == ["Drama (es)", "Genre 99", "Sept"])
        #expect(movie.genreNames(for: "de") == ["Drama", "Genre 99", "Sept"])
    }
}

@Suite struct SingleFlightTests {
    @Test func concurrentCallersShareOneRun() {
        let flight = SingleFlight<Int, Int>()
        final class Counter: @unchecked Sendable { var runs = 0; let lock = NSLock() }
        let counter = Counter()
        final class Results: @unchecked Sendable { var values: [Int] = []; let lock = NSLock() }
        let results = Results()
        // Real threads (concurrentPerform would run only one iteration per core at a time).
        let group = DispatchGroup()
        for _ in 0..<8 {
            group.enter()
            Thread {
                let value = try? flight.run(1) { () throws(CatalogError) -> Int in
                    counter.lock.lock(); counter.runs += 1; counter.lock.unlock()
                    Thread.sleep(forTimeInterval: 0.5)
                    return 42
                }
                results.lock.lock(); results.values.append(value ?? -1); results.lock.unlock()
                group.leave()
            }.start()
        }
        group.wait()
        #expect(results.values == Array(repeating: 42, count: 8))
        #expect(counter.runs == 1)
        #expect(throws: CatalogError.notFound) { try flight.run(2) { () throws(CatalogError) -> Int in throw .notFound } }
    }
}

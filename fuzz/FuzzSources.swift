// libFuzzer target: the release-name parser (names come from content directories, i.e. from
// strangers) on arbitrary input, and the bitrate estimate on arbitrary numbers. Built by
// fuzz/run.sh into one module with Sources/SourceLogic.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSources(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let info = ReleaseNameParser.parse(String(decoding: bytes, as: UTF8.self))
    if let season = info.season { precondition(season >= 0) }
    if bytes.count >= 10 {
        let size = bytes.prefix(8).reduce(Int64(0)) { $0 << 8 | Int64($1) }
        _ = ReleaseNameParser.estimateQuality(size: size, runtimeMinutes: Int(bytes[8]) * 3, codec: info.videoCodec)
        _ = StreamingScore.score(.init(quality: info.quality, codec: info.videoCodec, releaseType: info.releaseType,
                                       size: size, seeders: Int(bytes[9]), leechers: Int(bytes[8])))
    }
    return 0
}

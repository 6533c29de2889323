/// The metrics report of `GET /api/stats` (reference §11.1): time is cut into 5-minute
/// frames aligned to UTC midnight and 288 frames (24 h) are kept. A *duration* metric keeps
/// count/sum/min/max per frame; an *event* keeps a count.
///
/// Why frames are merged rather than kept per process: the API is a pool of worker
/// processes plus the engine, so each process accumulates its own samples and merges them
/// into the database; frames from every process add up to one report. Time is a parameter.
public enum StatsFrames {
    /// Seconds per frame.
    public static let length = 300
    /// Frames kept (24 hours).
    public static let kept = 288

    /// The frame holding the instant `time` (seconds since 1970, UTC).
    public static func frame(at time: Double) -> Int {
        Int((time / Double(length)).rounded(.down))
    }
}

/// Whether a metric measures durations or counts events.
public enum StatsKind: String, Sendable, Equatable {
    case duration
    case event
}

/// One metric's samples within one frame.
public struct StatsSample: Sendable, Equatable {
    public var name: String
    public var frame: Int
    public var kind: StatsKind
    public var count: Int
    public var sum: Double
    public var min: Double
    public var max: Double

    /// Creates a sample.
    public init(name: String, frame: Int, kind: StatsKind, count: Int, sum: Double = 0, min: Double = 0, max: Double = 0) {
        self.name = name
        self.frame = frame
        self.kind = kind
        self.count = count
        self.sum = sum
        self.min = min
        self.max = max
    }

    /// Adds another sample of the same metric and frame.
    public mutating func merge(_ other: StatsSample) {
        if kind == .duration {
            min = count == 0 ? other.min : Swift.min(min, other.min)
            max = count == 0 ? other.max : Swift.max(max, other.max)
            sum += other.sum
        }
        count += other.count
    }
}

/// Samples of one process not yet merged into the shared store. Bounded: at most
/// `maxNames` distinct metrics (a metric name never comes from user input, but a bug must
/// not grow memory without end).
public struct StatsAccumulator: Sendable {
    struct Key: Hashable {
        var name: String
        var frame: Int
    }

    private var samples: [Key: StatsSample] = [:]
    let maxNames: Int

    /// Creates an empty accumulator.
    public init(maxNames: Int = 512) { self.maxNames = maxNames }

    /// Whether nothing is pending.
    public var isEmpty: Bool { samples.isEmpty }

    /// Records one duration (seconds) of `name` at `time`.
    public mutating func duration(_ name: String, seconds: Double, at time: Double) {
        add(StatsSample(name: name, frame: StatsFrames.frame(at: time), kind: .duration, count: 1, sum: seconds, min: seconds, max: seconds))
    }

    /// Records one occurrence of the event `name` at `time`.
    public mutating func event(_ name: String, at time: Double) {
        add(StatsSample(name: name, frame: StatsFrames.frame(at: time), kind: .event, count: 1))
    }

    private mutating func add(_ sample: StatsSample) {
        let key = Key(name: sample.name, frame: sample.frame)
        if samples[key] == nil {
            guard samples.count < maxNames else { return }
            samples[key] = sample
        } else {
            samples[key]!.merge(sample)
        }
    }

    /// Returns every pending sample and forgets them.
    public mutating func drain() -> [StatsSample] {
        defer { samples.removeAll(keepingCapacity: true) }
        return samples.values.sorted { ($0.name, $0.frame) < ($1.name, $1.frame) }
    }
}

/// One frame's value in the report: `{count, min, max, avg}` for durations, a count for events.
public enum StatsValue: Sendable, Equatable, Encodable {
    case duration(count: Int, min: Double, max: Double, avg: Double)
    case event(Int)

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case let .event(count):
            var container = encoder.singleValueContainer()
            try container.encode(count)
        case let .duration(count, min, max, avg):
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(count, forKey: .count)
            try container.encode(min, forKey: .min)
            try container.encode(max, forKey: .max)
            try container.encode(avg, forKey: .avg)
        }
    }

    enum Keys: String, CodingKey { case count, min, max, avg }
}

/// Builds the report: for every metric, one value per frame from the oldest frame with data
/// (within the last 288) up to the frame of `now`, so every array has the same length and
/// index `i` is the same 5 minutes in each. Frames without data are zero.
public enum StatsReport {
    public static func build(_ samples: [StatsSample], now: Double) -> [String: [StatsValue]] {
        let current = StatsFrames.frame(at: now)
        let window = samples.filter { $0.frame > current - StatsFrames.kept && $0.frame <= current }
        guard let oldest = window.map(\.frame).min() else { return [:] }
        var merged: [String: [Int: StatsSample]] = [:]
        for sample in window {
            if merged[sample.name]?[sample.frame] != nil { merged[sample.name]![sample.frame]!.merge(sample) } else { merged[sample.name, default: [:]][sample.frame] = sample }
        }
        var report: [String: [StatsValue]] = [:]
        for (name, frames) in merged {
            let kind = frames.values.first!.kind
            report[name] = (oldest...current).map { frame in
                guard let sample = frames[frame] else { return kind == .event ? .event(0) : .duration(count: 0, min: 0, max: 0, avg: 0) }
                switch sample.kind {
                case .event: return .event(sample.count)
                case .duration:
                    return .duration(count: sample.count, min: round(sample.min), max: round(sample.max),
                                     avg: round(sample.count == 0 ? 0 : sample.sum / Double(sample.count)))
                }
            }
        }
        return report
    }

    /// Microsecond precision is plenty for seconds.
    static func round(_ value: Double) -> Double { (value * 1_000_000).rounded() / 1_000_000 }
}

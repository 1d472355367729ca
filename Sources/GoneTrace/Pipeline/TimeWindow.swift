/// `--since` / `--until`: which 410s a run reports. Events outside the window are still read,
/// because a disconnect at 09:59 is what explains a 410 at 10:01.
public struct TimeWindow: Sendable, Equatable {
  public var since: EpochMillis?
  public var until: EpochMillis?

  public init(since: EpochMillis? = nil, until: EpochMillis? = nil) {
    self.since = since
    self.until = until
  }

  public func contains(_ t: EpochMillis) -> Bool {
    (since.map { t >= $0 } ?? true) && (until.map { t <= $0 } ?? true)
  }

  public struct ParseError: Error, CustomStringConvertible {
    public var value: String
    public var description: String {
      "'\(value)' is not a time: use ISO-8601 (2024-05-19T06:10:35Z, 2024-05-19) or an age (45s, 30m, 2h, 7d, 1w)"
    }
  }

  /// An ISO-8601 time (a date alone means its midnight UTC), or an age before `now`: a number
  /// and a unit, s m h d w, several in a row allowed (`1h30m`).
  public static func parseBound(_ text: String, now: EpochMillis) throws(ParseError) -> EpochMillis {
    let bytes = Array(text.utf8)
    if let t = bytes.withUnsafeBytes({ b in Timestamp.parseISO8601(b).flatMap { $0.1 == b.count ? $0.0 : nil } }) {
      return t
    }
    if bytes.count == 10, let t = Array((text + "T00:00:00Z").utf8).withUnsafeBytes({ Timestamp.parseISO8601($0)?.0 }) {
      return t
    }
    var age: EpochMillis = 0
    var number: EpochMillis?
    for byte in bytes {
      if byte >= 0x30, byte <= 0x39 {
        number = (number ?? 0) * 10 + EpochMillis(byte - 0x30)
        guard number! < 1_000_000_000 else { throw ParseError(value: text) }
        continue
      }
      let unit: EpochMillis
      switch byte {
      case UInt8(ascii: "s"): unit = 1000
      case UInt8(ascii: "m"): unit = 60_000
      case UInt8(ascii: "h"): unit = 3_600_000
      case UInt8(ascii: "d"): unit = 86_400_000
      case UInt8(ascii: "w"): unit = 604_800_000
      default: throw ParseError(value: text)
      }
      guard let n = number else { throw ParseError(value: text) }
      age += n * unit
      number = nil
    }
    guard number == nil, !bytes.isEmpty else { throw ParseError(value: text) }
    return now - age
  }
}

extension Analysis {
  /// The same analysis reporting only the 410s inside `window`.
  public func restricted(to window: TimeWindow) -> Analysis {
    var a = self
    a.verdicts = verdicts.filtered { window.contains($0.time) }
    return a
  }
}

/// Times are Unix epoch milliseconds throughout, as CloudWatch stores them.
public typealias EpochMillis = Int64

/// Parsers for every time notation found in CloudWatch data, over raw bytes.
///
/// Hand-written because `DateFormatter`/`strptime` would cost more than the rest of the line's
/// processing (lnav's ptimec makes the same choice), and every format here is fixed-width.
public enum Timestamp {
  /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
  static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let mp = (month + 9) % 12
    let doy = (153 * mp + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146097 + doe - 719468
  }

  static func civil(fromDays z0: Int) -> (year: Int, month: Int, day: Int) {
    let z = z0 + 719468
    let era = (z >= 0 ? z : z - 146096) / 146097
    let doe = z - era * 146097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let day = doy - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
  }

  @inline(__always)
  private static func digits(_ b: UnsafeRawBufferPointer, _ at: Int, _ count: Int) -> Int? {
    guard at + count <= b.count else { return nil }
    var v = 0
    for i in at..<(at + count) {
      let d = b[i] &- 0x30
      guard d < 10 else { return nil }
      v = v * 10 + Int(d)
    }
    return v
  }

  private static func epoch(
    _ year: Int, _ month: Int, _ day: Int, _ hour: Int, _ minute: Int, _ second: Int
  ) -> EpochMillis? {
    guard (1..<13).contains(month), (1..<32).contains(day), hour < 24, minute < 60, second < 61,
      (1970...9999).contains(year)
    else { return nil }
    let days = daysFromCivil(year: year, month: month, day: day)
    return EpochMillis(((days * 24 + hour) * 60 + minute) * 60 + second) * 1000
  }

  /// The epoch milliseconds of `YYYY-MM-DDTHH:MM` at the start of `b` (checked as far as the
  /// colon before the seconds).
  static func iso8601Minute(_ b: UnsafeRawBufferPointer) -> EpochMillis? {
    guard b.count >= 19, b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54 || b[10] == 0x20,
      b[13] == 0x3A, b[16] == 0x3A,
      let year = digits(b, 0, 4), let month = digits(b, 5, 2), let day = digits(b, 8, 2),
      let hour = digits(b, 11, 2), let minute = digits(b, 14, 2)
    else { return nil }
    return epoch(year, month, day, hour, minute, 0)
  }

  /// Parses an ISO-8601 date-time at the start of `b`: `YYYY-MM-DDTHH:MM:SS[.f{1,9}][Z|±HH:MM|±HHMM]`.
  /// A space may stand for the `T` (Logs Insights writes `2024-05-19 06:10:35.743`).
  /// A missing zone means UTC (`aws logs tail --format short` prints UTC without one).
  /// Returns the time and the number of bytes consumed.
  public static func parseISO8601(_ b: UnsafeRawBufferPointer) -> (EpochMillis, Int)? {
    guard let minute = iso8601Minute(b) else { return nil }
    return iso8601Seconds(b, minute: minute)
  }

  /// The rest of an ISO-8601 time whose minute is known: seconds, fraction, zone.
  @inline(__always)
  static func iso8601Seconds(_ b: UnsafeRawBufferPointer, minute: EpochMillis) -> (EpochMillis, Int)? {
    guard let second = digits(b, 17, 2), second < 61 else { return nil }
    var ms = minute + EpochMillis(second) * 1000
    var i = 19
    if i < b.count, b[i] == 0x2E || b[i] == 0x2C {
      i += 1
      var fraction = 0
      var scale = 0
      while i < b.count, Bytes.isDigit(b[i]) {
        if scale < 3 {
          fraction = fraction * 10 + Int(b[i] &- 0x30)
          scale += 1
        }
        i += 1
      }
      guard scale > 0 else { return nil }
      while scale < 3 {
        fraction *= 10
        scale += 1
      }
      ms += EpochMillis(fraction)
    }
    if i < b.count {
      let z = b[i]
      if z == 0x5A {  // Z
        i += 1
      } else if z == 0x2B || z == 0x2D, let oh = digits(b, i + 1, 2) {
        var om = 0
        var used = 3
        if i + 3 < b.count, b[i + 3] == 0x3A, let m = digits(b, i + 4, 2) {
          om = m
          used = 6
        } else if let m = digits(b, i + 3, 2) {
          om = m
          used = 5
        }
        let offset = EpochMillis((oh * 60 + om) * 60_000)
        ms += z == 0x2B ? -offset : offset
        i += used
      }
    }
    return (ms, i)
  }

  private static let months: [UInt32] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
    "Sep", "Oct", "Nov", "Dec"].map { s in
    let u = Array(s.utf8)
    return UInt32(u[0]) << 16 | UInt32(u[1]) << 8 | UInt32(u[2])
  }

  /// Parses the CLF time of `$context.requestTime`: `20/Jul/2023:23:29:25 +0000`.
  public static func parseCLF(_ b: UnsafeRawBufferPointer) -> EpochMillis? {
    guard b.count >= 20, b[2] == 0x2F, b[6] == 0x2F, b[11] == 0x3A, let day = digits(b, 0, 2),
      let year = digits(b, 7, 4), let hour = digits(b, 12, 2), let minute = digits(b, 15, 2),
      let second = digits(b, 18, 2)
    else { return nil }
    let key = UInt32(b[3]) << 16 | UInt32(b[4]) << 8 | UInt32(b[5])
    guard let m = months.firstIndex(of: key), var ms = epoch(year, m + 1, day, hour, minute, second)
    else { return nil }
    if b.count >= 26, b[20] == 0x20, b[21] == 0x2B || b[21] == 0x2D, let oh = digits(b, 22, 2),
      let om = digits(b, 24, 2)
    {
      let offset = EpochMillis((oh * 60 + om) * 60_000)
      ms += b[21] == 0x2B ? -offset : offset
    }
    return ms
  }

  /// Epoch seconds (10 digits) or milliseconds (13 digits), as found in `connectedAt`,
  /// `requestTimeEpoch`, CloudWatch `timestamp` fields and moto's Insights `@timestamp`.
  public static func parseEpoch(_ b: UnsafeRawBufferPointer) -> EpochMillis? {
    guard let v = Bytes.parseInt(b) else { return nil }
    switch b.count {
    case 13: return v
    case 10: return v * 1000
    default: return nil
    }
  }

  /// Any of the notations above, whole-field.
  public static func parseAny(_ b: UnsafeRawBufferPointer) -> EpochMillis? {
    if let (ms, used) = parseISO8601(b), used == b.count { return ms }
    if let ms = parseEpoch(b) { return ms }
    return parseCLF(b)
  }

  public static func parseAny(_ text: String) -> EpochMillis? {
    var copy = text
    return copy.withUTF8 { parseAny(UnsafeRawBufferPointer($0)) }
  }

  /// `2024-05-09T10:00:00.123Z`: every time gonetrace prints is UTC with milliseconds.
  public static func format(_ ms: EpochMillis) -> String {
    var written = false
    let s = String(unsafeUninitializedCapacity: 24) { out in
      written = write(ms, to: out.baseAddress!)
      return written ? 24 : 0
    }
    if written { return s }
    let (y, m, d, secOfDay, millis) = parts(ms)
    func pad(_ v: Int, _ width: Int) -> String {
      let s = String(v)
      return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
    return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(secOfDay / 3600, 2)):"
      + "\(pad(secOfDay / 60 % 60, 2)):\(pad(secOfDay % 60, 2)).\(pad(millis, 3))Z"
  }

  /// Writes the 24 bytes `format` gives to `out`, when the year has four digits (else false,
  /// nothing written). Every report line prints times: digits written in place, not through
  /// interpolation.
  static func write(_ ms: EpochMillis, to out: UnsafeMutablePointer<UInt8>) -> Bool {
    let (y, m, d, secOfDay, millis) = parts(ms)
    guard (0...9999).contains(y) else { return false }
    func put(_ v: Int, _ width: Int, at i: Int) {
      var v = v
      for k in stride(from: i + width - 1, through: i, by: -1) {
        out[k] = UInt8(truncatingIfNeeded: 0x30 + v % 10)
        v /= 10
      }
    }
    put(y, 4, at: 0); out[4] = UInt8(ascii: "-"); put(m, 2, at: 5); out[7] = UInt8(ascii: "-")
    put(d, 2, at: 8); out[10] = UInt8(ascii: "T"); put(secOfDay / 3600, 2, at: 11); out[13] = UInt8(ascii: ":")
    put(secOfDay / 60 % 60, 2, at: 14); out[16] = UInt8(ascii: ":"); put(secOfDay % 60, 2, at: 17)
    out[19] = UInt8(ascii: "."); put(millis, 3, at: 20); out[23] = UInt8(ascii: "Z")
    return true
  }

  /// Year, month, day, second of the day and millisecond of `ms` (UTC).
  private static func parts(_ ms: EpochMillis) -> (Int, Int, Int, Int, Int) {
    let seconds = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
    let millis = Int(ms - seconds * 1000)
    let days = Int(seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400)
    let secOfDay = Int(seconds - EpochMillis(days) * 86400)
    let (y, m, d) = civil(fromDays: days)
    return (y, m, d, secOfDay, millis)
  }
}

/// Reads the ISO-8601 times that start the lines of one input. The lines of a log share their
/// minute with the line before nearly always, so the date and the hour are worked out again
/// only when the first 16 bytes change (parsing each line's time in full was 3% of a run).
/// The result is exactly `Timestamp.parseISO8601`'s.
struct ISO8601LineTimes {
  private var key: (UInt64, UInt64) = (0, 0)
  private var minute: EpochMillis?

  mutating func parse(_ b: UnsafeRawBufferPointer) -> (EpochMillis, Int)? {
    guard b.count >= 19 else { return nil }
    let k = (b.loadUnaligned(fromByteOffset: 0, as: UInt64.self), b.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
    if minute == nil || k != key || b[16] != 0x3A {
      guard let m = Timestamp.iso8601Minute(b) else { return nil }
      key = k
      minute = m
    }
    return Timestamp.iso8601Seconds(b, minute: minute!)
  }
}

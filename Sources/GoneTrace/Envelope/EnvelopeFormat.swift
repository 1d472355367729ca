/// The shapes CloudWatch log data arrives in. Detection picks one per input; the rest of the
/// program never asks which.
public enum EnvelopeFormat: String, CaseIterable, Sendable {
  /// Raw lines, with or without a leading ISO-8601 time (console copies, exporting tools, `sam logs`-less pastes).
  case lines
  /// A chunk of a CloudWatch Logs S3 export: `<ISO ms Z> <message>` lines, stream from the folder.
  case s3Export = "s3-export"
  /// `aws logs filter-log-events` / `get-log-events` JSON, one page or several concatenated.
  case cliJSON = "cli-json"
  /// `aws logs tail` text, `detailed` or `short`, with or without colour escapes.
  case tail
  /// Subscription-filter payloads (`DATA_MESSAGE`), bare, concatenated, or in `{"awslogs":{"data":…}}`.
  case subscription
  /// `aws logs get-query-results` JSON.
  case insightsJSON = "insights-json"
  /// The CSV the Logs Insights console exports.
  case insightsCSV = "insights-csv"
}

extension EnvelopeFormat {
  /// An event is a line of the file (or of a line continued on the next): the formats a file can
  /// be split into pieces of, and whose evidence can be read back from the file.
  var isLineShaped: Bool { self == .lines || self == .s3Export || self == .tail }
}

/// How a line-shaped input is laid out, decided from its first lines.
struct LineLayout: Equatable {
  /// Lines not starting with a time continue the event before them (exports, tail, console copies).
  var continuationLines: Bool
  /// `aws logs tail --format detailed`: a stream name follows the time.
  var streamAfterTime: Bool
}

enum EnvelopeDetector {
  /// How much of an input detection looks at.
  static let headSize = 64 * 1024

  /// Picks the envelope of an input from its first bytes (already inflated). Nil: not a CloudWatch log.
  static func detect(head: UnsafeRawBufferPointer, input: Input) -> (EnvelopeFormat, LineLayout)? {
    var i = 0
    if head.count >= 3, head[0] == 0xEF, head[1] == 0xBB, head[2] == 0xBF { i = 3 }  // UTF-8 BOM
    while i < head.count, head[i] == 0x20 || head[i] == 0x09 || head[i] == 0x0A || head[i] == 0x0D { i += 1 }
    guard i < head.count else { return nil }  // empty or blank: nothing to decode
    let rest = UnsafeRawBufferPointer(rebasing: head[i...])
    // NUL bytes: a zero-filled block left by a writer that crashed mid-file (one run of NULs per
    // block) does not make a log binary: detect on the rest. NULs scattered in many runs do.
    if Bytes.index(of: 0, in: rest, from: 0, to: rest.count) != nil {
      var runs = 0
      var i = 0
      while let z = Bytes.index(of: 0, in: rest, from: i, to: rest.count) {
        runs += 1
        i = z + 1
        while i < rest.count, rest[i] == 0 { i += 1 }
      }
      let clean = rest.filter { $0 != 0 }
      guard runs <= 8, !clean.isEmpty else { return nil }
      return clean.withUnsafeBytes { detect(head: $0, input: input) }
    }

    func has(_ s: String) -> Bool { ByteLiteral(s).withBuffer { Bytes.contains(rest, $0) } }
    let timestampedLayout = LineLayout(continuationLines: true, streamAfterTime: false)
    switch rest[0] {
    case UInt8(ascii: "{"):
      switch firstKey(rest) {
      case "events", "nextForwardToken", "nextBackwardToken", "nextToken", "searchedLogStreams", "NextToken":
        return (.cliJSON, timestampedLayout)
      case "messageType", "owner", "logGroup", "logStream", "subscriptionFilters", "logEvents", "awslogs":
        return (.subscription, timestampedLayout)
      case "results", "statistics", "status", "encryptionKey":
        if has("\"results\"") { return (.insightsJSON, timestampedLayout) }
      default: break
      }
      return lineLayout(head: rest, input: input).map { (.lines, $0) }
    case UInt8(ascii: "["):
      var j = 1
      while j < rest.count, rest[j] == 0x20 || rest[j] == 0x0A || rest[j] == 0x0D || rest[j] == 0x09 { j += 1 }
      if j < rest.count, rest[j] == UInt8(ascii: "["), has("\"field\"") { return (.insightsJSON, timestampedLayout) }
      if j < rest.count, rest[j] == UInt8(ascii: "{"), has("\"message\"") { return (.cliJSON, timestampedLayout) }
      return nil
    default:
      let firstLine = UnsafeRawBufferPointer(
        rebasing: rest[..<(Bytes.index(of: Bytes.newline, in: rest, from: 0, to: rest.count) ?? rest.count)])
      if ByteLiteral("@message").withBuffer({ Bytes.contains(firstLine, $0) }),
        ByteLiteral("@timestamp").withBuffer({ Bytes.contains(firstLine, $0) })
      {
        return (.insightsCSV, timestampedLayout)
      }
      guard let layout = lineLayout(head: rest, input: input) else { return nil }
      if layout.streamAfterTime || tailShort(firstLine) { return (.tail, layout) }
      if input.streamFromPath != nil, layout.continuationLines { return (.s3Export, layout) }
      return (.lines, layout)
    }
  }


  /// The first key of a JSON object, or nil.
  private static func firstKey(_ b: UnsafeRawBufferPointer) -> String? {
    var i = 1
    while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
    guard i < b.count, b[i] == Bytes.quote else { return nil }
    guard let end = Bytes.index(of: Bytes.quote, in: b, from: i + 1, to: b.count) else { return nil }
    return String(bytes: UnsafeRawBufferPointer(rebasing: b[(i + 1)..<end]))
  }

  /// Skips `ESC [ … m` colour sequences (`aws logs tail` colours time and stream on a terminal).
  static func skipANSI(_ b: UnsafeRawBufferPointer, from start: Int) -> Int {
    var i = start
    while i + 1 < b.count, b[i] == 0x1B, b[i + 1] == UInt8(ascii: "[") {
      var j = i + 2
      while j < b.count, b[j] != UInt8(ascii: "m"), j - i < 16 { j += 1 }
      guard j < b.count, b[j] == UInt8(ascii: "m") else { break }
      i = j + 1
    }
    return i
  }

  /// `2018-01-01T00:29:43.079060+00:00 ` (tail converts to UTC and prints microseconds, or none at
  /// all in older CLI versions): the shape that tells `aws logs tail --format detailed` apart.
  static func isTailTime(_ b: UnsafeRawBufferPointer, used: Int) -> Bool {
    guard used == 25 || used == 32, used <= b.count else { return false }
    return ByteLiteral("+00:00").withBuffer { Bytes.hasPrefix(b, $0, at: used - 6) }
  }

  private static func tailShort(_ line: UnsafeRawBufferPointer) -> Bool {
    let start = skipANSI(line, from: 0)
    let b = UnsafeRawBufferPointer(rebasing: line[start...])
    guard let (_, used) = Timestamp.parseISO8601(b), used == 19 else { return false }
    let after = skipANSI(b, from: used)
    return after < b.count && b[after] == Bytes.space
  }

  /// Looks at the first lines: a line-shaped input must show at least one line a CloudWatch log
  /// would have (a time, an execution-log `(requestId) ` prefix, a Lambda platform line, a JSON object).
  private static func lineLayout(head: UnsafeRawBufferPointer, input: Input) -> LineLayout? {
    var start = 0
    var sampled = 0
    var timeSpace = 0
    var tailDetailed = 0
    var cloudWatchLooking = 0
    var firstLineTimed: Bool?
    while start < head.count, sampled < 50 {
      let end = Bytes.index(of: Bytes.newline, in: head, from: start, to: head.count) ?? head.count
      if end == head.count, head.count == headSize { break }  // last line cut by the head size
      let line = UnsafeRawBufferPointer(rebasing: head[start..<end])
      start = end + 1
      guard !Bytes.trimmedEnd(line).isEmpty else { continue }
      sampled += 1
      let s = skipANSI(line, from: 0)
      let body = UnsafeRawBufferPointer(rebasing: line[s...])
      if let (_, used) = Timestamp.parseISO8601(body) {
        let after = skipANSI(body, from: used)
        if after < body.count, body[after] == Bytes.space {
          if firstLineTimed == nil { firstLineTimed = true }
          timeSpace += 1
          if isTailTime(body, used: used) { tailDetailed += 1 }
        }
        cloudWatchLooking += 1
      } else if LineClassifier.looksLikeCloudWatchMessage(body) {
        cloudWatchLooking += 1
      }
      if firstLineTimed == nil { firstLineTimed = false }
    }
    guard cloudWatchLooking > 0 else { return nil }
    // Exports, console copies and tail output give every event a leading "<time> ": when the
    // first line has one, a line without one continues the event before it (a pretty-printed
    // JSON message, the blank line after a message ending in a newline).
    let continuation = firstLineTimed == true || (input.streamFromPath != nil && timeSpace > 0)
    return LineLayout(continuationLines: continuation, streamAfterTime: continuation && tailDetailed * 2 >= timeSpace)
  }
}

/// Quick shape checks on a message's first bytes.
enum LineClassifier {
  private static let prefixes: [ByteLiteral] = [
    "START RequestId: ", "END RequestId: ", "REPORT RequestId: ", "INIT_START ", "[INFO]", "[ERROR]",
    "[WARNING]", "[DEBUG]", "{", "Extended Request Id:",
  ].map(ByteLiteral.init)

  static func looksLikeCloudWatchMessage(_ b: UnsafeRawBufferPointer) -> Bool {
    for p in prefixes where p.withBuffer({ Bytes.hasPrefix(b, $0) }) { return true }
    // Execution log: "(<requestId>) <message>".
    if b.count > 4, b[0] == UInt8(ascii: "("),
      let close = Bytes.index(of: UInt8(ascii: ")"), in: b, from: 1, to: min(b.count, 64)),
      close + 1 < b.count, b[close + 1] == Bytes.space
    {
      return true
    }
    return false
  }
}

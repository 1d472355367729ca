import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

/// The state file's JSON, its retained events read and written by hand.
///
/// Why not `Codable` for all of it: a busy API's 2-hour window is a hundred thousand events (the
/// 1 GB bench corpus keeps 140,000, 36 MB of text), and a cron run spent 72% of its time and most
/// of its memory in Foundation's JSON coders: the whole file as `Data`, a parsed tree of it, a
/// `String` per message, then all of it again to write the next state (1.9 s and 291 MiB for a
/// run with nothing new to read). Here the file is one buffer, each event is parsed in place into
/// its message bytes, and the next state is written as it is built, a line per event. The shape
/// is the one `Codable` wrote (a version 1 state reads the same either way); the small parts
/// (cursors, reported 410s, totals) still go through `Codable`.
///
///     {"cursors":[…],"kind":"gonetrace-state","newestEvent":…,"reported":[…],"retained":[
///     {"events":[
///     {"t":1715212801000,"own":true,"line":3,"text":"2024-05-09T00:00:01.000Z (61TKXe7OZtMFjyQ=) …"},
///     …],"format":"lines","name":"logs/exec.log"}],"savedAt":…,"totals":{…},"version":1,"writtenBy":"…"}
///
/// A message is stored as text when it is UTF-8 without NUL (nearly always), else as base64, so a
/// state never alters the bytes it replays.
enum StateFile {
  // MARK: Writing

  static func write(_ state: RunState, to file: AtomicFile.Writer) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    var out: [UInt8] = []
    out.reserveCapacity(1 << 20)
    func raw(_ s: StaticString) { append(s, to: &out) }
    func text(_ s: String) { out.append(contentsOf: s.utf8) }
    func coded<T: Encodable>(_ value: T) throws { out.append(contentsOf: try encoder.encode(value)) }
    func drain() {
      out.withUnsafeBytes { file.write($0) }
      out.removeAll(keepingCapacity: true)
    }

    raw("{\"cursors\":")
    try coded(state.cursors)
    raw(",\"kind\":")
    try coded(RunState.kind)
    if let newest = state.newestEvent {
      raw(",\"newestEvent\":")
      text(String(newest))
    }
    raw(",\"reported\":")
    try coded(state.reported)
    raw(",\"retained\":[")
    for (i, input) in state.retained.enumerated() {
      raw(i == 0 ? "\n{\"events\":[" : ",\n{\"events\":[")
      for (j, event) in input.events.enumerated() {
        raw(j == 0 ? "\n" : ",\n")
        append(event, to: &out)
        if out.count >= 1 << 20 { drain() }
      }
      raw("]")
      if let format = input.format {
        raw(",\"format\":")
        try coded(format)
      }
      raw(",\"name\":")
      try coded(input.name)
      raw("}")
    }
    raw("],\"savedAt\":")
    text(String(state.savedAt))
    raw(",\"totals\":")
    try coded(state.totals)
    raw(",\"version\":")
    text(String(RunState.version))
    raw(",\"writtenBy\":")
    try coded(state.writtenBy)
    raw("}\n")
    drain()
  }

  private static func append(_ s: StaticString, to out: inout [UInt8]) {
    out.append(contentsOf: UnsafeRawBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
  }

  /// One event as a JSON object on its own line.
  static func append(_ e: RetainedEvent, to out: inout [UInt8]) {
    func raw(_ s: StaticString) { append(s, to: &out) }
    func string(_ s: String) { JSONWriter.appendQuoted(s, to: &out) }
    raw("{\"t\":")
    out.append(contentsOf: String(e.timestamp).utf8)
    raw(e.hasOwnTime ? ",\"own\":true" : ",\"own\":false")
    if let g = e.group {
      raw(",\"group\":")
      string(g)
    }
    if let s = e.stream {
      raw(",\"stream\":")
      string(s)
    }
    if let line = e.origin.line {
      raw(",\"line\":")
      out.append(contentsOf: String(line).utf8)
    }
    if let record = e.origin.record {
      raw(",\"record\":")
      out.append(contentsOf: String(record).utf8)
    }
    if let id = e.eventId {
      raw(",\"eventId\":")
      // As the earlier coder stored it: a String of the bytes, ill-formed UTF-8 repaired.
      string(String(decoding: id, as: UTF8.self))
    }
    e.message.withUnsafeBytes { m in
      let mark = out.count
      raw(",\"text\":")
      if Bytes.index(of: 0, in: m, from: 0, to: m.count) == nil,
        JSONWriter.appendQuoted(m, validating: true, to: &out)
      {
        return
      }
      out.removeSubrange(mark...)
      raw(",\"base64\":\"")
      out.append(contentsOf: Data(m).base64EncodedString().utf8)
      raw("\"")
    }
    raw("}")
  }

  // MARK: Reading

  /// What tells a state from any other file, and the rest, once it is known to be one.
  static func read(_ b: UnsafeRawBufferPointer, path: String) throws(StateError) -> RunState {
    var members: [String: JSONValue] = [:]
    let wellFormed = JSONReader.forEachMember(b) { key, value in
      members[String(decoding: key, as: UTF8.self)] = value
      return true
    }
    let isState = members["kind"].map { $0.kind == .string && JSONReader.equals($0.bytes, "gonetrace-state") } ?? false
    // The members are read leniently (as log lines are); a state must also be strictly JSON, or
    // a damaged one (a cut write, a hand edit) would be read in part.
    if isState || b.first == UInt8(ascii: "{"), let at = JSONReader.firstError(b) {
      throw .corrupt(path: path, reason: "line \(lineNumber(at, in: b)): not valid JSON")
    }
    guard wellFormed else {
      // Some other JSON (a list, a number): a file of something else, not a damaged state.
      var end = 0
      if JSONReader.value(b, &end) != nil, b[end...].allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
        throw .foreign(path: path, found: "no \"kind\": \"\(RunState.kind)\" member")
      }
      let head = String(decoding: b.prefix(40), as: UTF8.self).replacingAll("\n", with: " ")
      throw .foreign(path: path, found: "it starts \"\(head)\"")
    }
    guard isState else { throw .foreign(path: path, found: "no \"kind\": \"\(RunState.kind)\" member") }
    guard let version = members["version"].flatMap(integer) else {
      throw .corrupt(path: path, reason: "\"version\" is missing or not a whole number")
    }
    if version > RunState.version { throw .newerVersion(path: path, version: Int(version)) }

    func required(_ key: String) throws(StateError) -> JSONValue {
      guard let v = members[key] else { throw .corrupt(path: path, reason: "missing \"\(key)\"") }
      return v
    }
    func coded<T: Decodable>(_ type: T.Type, _ key: String) throws(StateError) -> T {
      let v = try required(key)
      do {
        return try JSONDecoder().decode(T.self, from: Data(v.bytes))
      } catch {
        throw .corrupt(path: path, reason: "\"\(key)\": " + RunState.describe(error))
      }
    }
    let writtenBy = try required("writtenBy")
    guard writtenBy.kind == .string, let savedAt = integer(try required("savedAt")) else {
      throw .corrupt(path: path, reason: "\"writtenBy\" or \"savedAt\" is not what a state holds")
    }
    var state = RunState(writtenBy: JSONReader.string(writtenBy), savedAt: savedAt)
    if let v = members["newestEvent"], !isNull(v) {
      guard let newest = integer(v) else { throw .corrupt(path: path, reason: "\"newestEvent\" is not a time") }
      state.newestEvent = newest
    }
    state.cursors = try coded([RunState.Cursor].self, "cursors")
    state.reported = try coded([RunState.Reported].self, "reported")
    state.totals = try coded(RunTotals.self, "totals")
    state.retained = try retained(try required("retained"), in: b, path: path)
    return state
  }

  private static func retained(_ value: JSONValue, in file: UnsafeRawBufferPointer, path: String) throws(StateError)
    -> [RunState.RetainedInput]
  {
    /// The reason, with the line of the file it was found on.
    func corrupt(_ at: UnsafeRawBufferPointer, _ reason: String) -> StateError {
      let offset = file.baseAddress!.distance(to: at.baseAddress ?? file.baseAddress!)
      return .corrupt(path: path, reason: "line \(lineNumber(offset, in: file)): \(reason)")
    }
    var inputs: [RunState.RetainedInput] = []
    var failure: StateError?
    let wellFormed = JSONReader.forEachElement(value.bytes) { element in
      var name: String?
      var format: EnvelopeFormat?
      var events: [RetainedEvent]?
      let inputWellFormed = JSONReader.forEachMember(element.bytes) { key, v in
        if JSONReader.equals(key, "name") {
          guard v.kind == .string else {
            failure = corrupt(v.bytes, "a retained input's \"name\" is not a string")
            return false
          }
          name = JSONReader.string(v)
        } else if JSONReader.equals(key, "format"), !isNull(v) {
          format = v.kind == .string ? EnvelopeFormat(rawValue: JSONReader.string(v)) : nil
          if format == nil { failure = corrupt(v.bytes, "unknown format \(String(decoding: v.bytes, as: UTF8.self))") }
        } else if JSONReader.equals(key, "events") {
          events = []
          let eventsWellFormed = JSONReader.forEachElement(v.bytes) { e in
            switch event(e) {
            case .success(let event): events!.append(event)
            case .failure(let reason): failure = corrupt(e.bytes, reason)
            }
            return failure == nil
          }
          if failure == nil, !eventsWellFormed { failure = corrupt(v.bytes, "the events are not a JSON array") }
        }
        return failure == nil
      }
      if failure == nil, !inputWellFormed { failure = corrupt(element.bytes, "a retained input is not a JSON object") }
      if failure == nil, name == nil { failure = corrupt(element.bytes, "a retained input without a \"name\"") }
      if failure == nil, events == nil { failure = corrupt(element.bytes, "a retained input without \"events\"") }
      if failure == nil, let name, let events {
        inputs.append(RunState.RetainedInput(name: name, format: format, events: events))
      }
      return failure == nil
    }
    if let failure { throw failure }
    if !wellFormed { throw corrupt(value.bytes, "\"retained\" is not a JSON array") }
    return inputs
  }

  private enum Parsed {
    case success(RetainedEvent)
    case failure(String)
  }

  private static func event(_ value: JSONValue) -> Parsed {
    var time: EpochMillis?
    var own: Bool?
    var group: String?
    var stream: String?
    var message: [UInt8]?
    var line: Int?
    var record: Int?
    var eventId: [UInt8]?
    var problem: String?
    let wellFormed = JSONReader.forEachMember(value.bytes) { key, v in
      func number() -> Int? {
        if isNull(v) { return nil }
        guard let n = integer(v) else {
          problem = "\"\(String(decoding: key, as: UTF8.self))\" is not a whole number"
          return nil
        }
        return Int(n)
      }
      func text() -> String? { bytes().map { String(decoding: $0, as: UTF8.self) } }
      func bytes() -> [UInt8]? {
        if isNull(v) { return nil }
        guard v.kind == .string else {
          problem = "\"\(String(decoding: key, as: UTF8.self))\" is not a string"
          return nil
        }
        var out: [UInt8] = []
        out.reserveCapacity(v.bytes.count)
        Bytes.appendJSONUnescaped(v.bytes, to: &out)
        return out
      }
      if JSONReader.equals(key, "t") {
        time = number().map(EpochMillis.init)
      } else if JSONReader.equals(key, "own") {
        own = JSONReader.equals(v.bytes, "true") ? true : JSONReader.equals(v.bytes, "false") ? false : nil
        if own == nil { problem = "\"own\" is not true or false" }
      } else if JSONReader.equals(key, "text") {
        if let m = bytes() { message = m }
      } else if JSONReader.equals(key, "base64") {
        if let b = text() {
          guard let data = Data(base64Encoded: b) else {
            problem = "\"base64\" is not base64"
            return false
          }
          message = Array(data)
        }
      } else if JSONReader.equals(key, "group") {
        group = text()
      } else if JSONReader.equals(key, "stream") {
        stream = text()
      } else if JSONReader.equals(key, "line") {
        line = number()
      } else if JSONReader.equals(key, "record") {
        record = number()
      } else if JSONReader.equals(key, "eventId") {
        eventId = bytes()
      }
      return problem == nil
    }
    if let problem { return .failure(problem) }
    guard wellFormed else { return .failure("an event is not a JSON object") }
    guard let time else { return .failure("an event without a time (\"t\")") }
    guard let own else { return .failure("an event without \"own\" (true or false)") }
    guard let message else { return .failure("an event without a message (\"text\" or \"base64\")") }
    return .success(RetainedEvent(timestamp: time, hasOwnTime: own, group: group, stream: stream, message: message,
      origin: Origin(input: 0, line: line, record: record), eventId: eventId))
  }

  /// The line of `file` that `offset` is on, from 1.
  private static func lineNumber(_ offset: Int, in file: UnsafeRawBufferPointer) -> Int {
    var line = 1
    var i = 0
    while let n = Bytes.index(of: Bytes.newline, in: file, from: i, to: offset) {
      line += 1
      i = n + 1
    }
    return line
  }

  private static func isNull(_ v: JSONValue) -> Bool { v.kind == .literal && JSONReader.equals(v.bytes, "null") }

  /// A JSON number that is a whole number (up to 18 digits, a sign allowed), else nil.
  private static func integer(_ v: JSONValue) -> Int64? {
    guard v.kind == .number else { return nil }
    if v.bytes.first == UInt8(ascii: "-") {
      return Bytes.parseInt(UnsafeRawBufferPointer(rebasing: v.bytes.dropFirst())).map { -$0 }
    }
    return Bytes.parseInt(v.bytes)
  }
}

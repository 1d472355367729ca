import FoundationEssentials

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What `--state FILE` keeps between incremental runs (cron): how far each input was read, the
/// events of connections still inside the 2-hour window, which 410s were already reported, and
/// running totals for the Prometheus counters. Written as JSON, atomically.
public struct RunState: Sendable, Equatable {
  public static let kind = "gonetrace-state"
  public static let version = 1

  /// How far one input file was read.
  public struct Cursor: Sendable, Equatable, Codable {
    /// The input's name as given (its path).
    public var name: String
    /// File identity: a rotated file keeps it under a new name, a replaced file loses it.
    public var device: UInt64
    public var inode: UInt64
    /// Bytes consumed: the next run starts here.
    public var offset: Int64
    /// Newlines before `offset`, so the next run's line numbers continue the file's.
    public var lines: Int
    /// FNV-1a of the first `min(offset, 4096)` bytes: a file rewritten in place is read anew.
    public var headHash: UInt64
    public var compressed: Bool
    public var format: EnvelopeFormat?
  }

  /// A 410 already reported, by the position of the line that recorded it.
  public struct Reported: Sendable, Equatable, Hashable, Codable {
    public var key: String
    public var time: EpochMillis
  }

  /// The retained events of one input, with that input's last known format.
  public struct RetainedInput: Sendable, Equatable {
    public var name: String
    public var format: EnvelopeFormat?
    public var events: [RetainedEvent]
  }

  public var writtenBy: String
  public var savedAt: EpochMillis
  /// The newest event time ever read: the window of kept state ends here.
  public var newestEvent: EpochMillis?
  public var cursors: [Cursor] = []
  public var retained: [RetainedInput] = []
  public var reported: [Reported] = []
  public var totals = RunTotals()

  public init(writtenBy: String, savedAt: EpochMillis) {
    self.writtenBy = writtenBy
    self.savedAt = savedAt
  }
}

public enum StateError: Error, Sendable, CustomStringConvertible {
  case unreadable(path: String, reason: String)
  case corrupt(path: String, reason: String)
  case foreign(path: String, found: String)
  case newerVersion(path: String, version: Int)
  case unwritable(path: String, reason: String)
  case busy(path: String)

  public var description: String {
    let advice = "; run with --reset-state to start over (the next run then reads every input whole)"
    switch self {
    case .unreadable(let path, let reason): return "state file \(path): cannot read: \(reason)"
    case .corrupt(let path, let reason): return "state file \(path) is corrupt: \(reason)" + advice
    case .foreign(let path, let found):
      return "\(path) is not a gonetrace state file (\(found)); refusing to overwrite it" + advice
    case .newerVersion(let path, let version):
      return "state file \(path) has version \(version), newer than this gonetrace's \(RunState.version)" + advice
    case .unwritable(let path, let reason): return "state file \(path): cannot write: \(reason)"
    case .busy(let path): return "state file \(path) is in use by another gonetrace run (\(path).lock is locked)"
    }
  }
}

// MARK: - File form

/// An exclusive lock beside the state file (`FILE.lock`), held for the whole run: two cron runs
/// that overlap would otherwise read the same state and report the same 410s.
public final class StateLock: Sendable {
  private let fd: Int32

  public init(statePath: String) throws(StateError) {
    let fd = open(statePath + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw .unwritable(path: statePath + ".lock", reason: String(cString: strerror(errno))) }
    guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
      close(fd)
      throw .busy(path: statePath)
    }
    self.fd = fd
  }

  deinit { close(fd) }
}

extension RunState {
  /// Reads the state; nil when there is none yet (no file, or an empty one, as `mktemp` leaves).
  public static func load(path: String) throws(StateError) -> RunState? {
    var data = Data()
    do throws(InputError) {
      let source = try FileDescriptorSource(path: path)
      let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 1)
      defer { chunk.deallocate() }
      while case let n = try source.read(into: chunk), n > 0 {
        data.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[0..<n]))
      }
    } catch {
      switch error {
      case .notFound: return nil
      case .notReadable(_, let reason), .readFailed(_, let reason): throw .unreadable(path: path, reason: reason)
      case .unknownEnvelope: throw .unreadable(path: path, reason: error.description)
      }
    }
    if data.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return nil }
    /// What tells a state file from any other JSON, read before the whole.
    struct Header: Decodable {
      var kind: String?
      var version: Int?
    }
    let header: Header
    do {
      header = try JSONDecoder().decode(Header.self, from: data)
    } catch DecodingError.dataCorrupted {
      let head = String(decoding: data.prefix(40), as: UTF8.self).replacingAll("\n", with: " ")
      throw data.first == UInt8(ascii: "{") ? .corrupt(path: path, reason: "not valid JSON")
        : .foreign(path: path, found: "it starts \"\(head)\"")
    } catch {
      throw .foreign(path: path, found: "no \"kind\": \"\(RunState.kind)\" member")
    }
    guard header.kind == RunState.kind else {
      throw .foreign(path: path, found: "no \"kind\": \"\(RunState.kind)\" member")
    }
    if let version = header.version, version > RunState.version {
      throw .newerVersion(path: path, version: version)
    }
    do {
      return try JSONDecoder().decode(StoredState.self, from: data).state
    } catch {
      throw .corrupt(path: path, reason: Self.describe(error))
    }
  }

  static func describe(_ error: Error) -> String {
    switch error {
    case DecodingError.keyNotFound(let key, let context):
      return "missing \"\(key.stringValue)\" at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
    case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context),
      DecodingError.dataCorrupted(let context):
      return "\(context.debugDescription) at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
    default:
      return "\(error)"
    }
  }

  /// Writes the state atomically: a reader (or a crash) sees the old file or the new one.
  public func save(path: String) throws(StateError) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    do {
      let data = try encoder.encode(StoredState(self))
      try AtomicFile.write(data, to: path)
    } catch {
      throw .unwritable(path: path, reason: "\(error)")
    }
  }
}

/// The JSON shape of the state. Messages are stored as text when they are UTF-8 (nearly always)
/// and as base64 otherwise, so a state never alters the bytes it replays.
struct StoredState: Codable {
  var kind = RunState.kind
  var version = RunState.version
  var writtenBy: String
  var savedAt: EpochMillis
  var newestEvent: EpochMillis?
  var cursors: [RunState.Cursor]
  var retained: [StoredInput]
  var reported: [RunState.Reported]
  var totals: RunTotals

  struct StoredInput: Codable {
    var name: String
    var format: EnvelopeFormat?
    var events: [StoredEvent]
  }

  struct StoredEvent: Codable {
    var t: EpochMillis
    var own: Bool
    var group: String?
    var stream: String?
    var text: String?
    var base64: String?
    var line: Int?
    var record: Int?
    var eventId: String?
  }

  /// The message as text when it is valid UTF-8 without NUL (nearly always), else nil (base64).
  static func storableText(_ bytes: [UInt8]) -> String? {
    guard !bytes.contains(0), let s = String(bytes: bytes, encoding: .utf8) else { return nil }
    return s
  }

  init(_ s: RunState) {
    writtenBy = s.writtenBy
    savedAt = s.savedAt
    newestEvent = s.newestEvent
    cursors = s.cursors
    reported = s.reported
    totals = s.totals
    retained = s.retained.map { input in
      StoredInput(name: input.name, format: input.format, events: input.events.map { e in
        let text = StoredState.storableText(e.message)
        return StoredEvent(t: e.timestamp, own: e.hasOwnTime, group: e.group, stream: e.stream, text: text,
          base64: text == nil ? Data(e.message).base64EncodedString() : nil, line: e.origin.line,
          record: e.origin.record, eventId: e.eventId.map { String(decoding: $0, as: UTF8.self) })
      })
    }
  }

  var state: RunState {
    get throws {
      var s = RunState(writtenBy: writtenBy, savedAt: savedAt)
      s.newestEvent = newestEvent
      s.cursors = cursors
      s.reported = reported
      s.totals = totals
      s.retained = try retained.map { input in
        RunState.RetainedInput(name: input.name, format: input.format, events: try input.events.map { e in
          let message: [UInt8]
          if let text = e.text {
            message = Array(text.utf8)
          } else if let b = e.base64, let data = Data(base64Encoded: b) {
            message = Array(data)
          } else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "an event without a message in \(input.name)"))
          }
          return RetainedEvent(timestamp: e.t, hasOwnTime: e.own, group: e.group, stream: e.stream, message: message,
            origin: Origin(input: 0, line: e.line, record: e.record), eventId: e.eventId.map { Array($0.utf8) })
        })
      }
      return s
    }
  }
}

extension EnvelopeFormat: Codable {}

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
    // Read into one buffer of the file's size (a state can be tens of MB: appending to `Data` in
    // chunks held twice that while it grew).
    var data = Data()
    do throws(InputError) {
      let source = try FileDescriptorSource(path: path)
      var size = stat()
      if fstat(source.descriptor, &size) == 0 { data.reserveCapacity(Int(size.st_size) + 1) }
      let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 1)
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
    return try data.withUnsafeBytes { b in Result { () throws(StateError) in try StateFile.read(b, path: path) } }.get()
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
    do {
      let file = try AtomicFile.Writer(path: path)
      try StateFile.write(self, to: file)
      try file.commit()
    } catch {
      throw .unwritable(path: path, reason: "\(error)")
    }
  }
}

extension EnvelopeFormat: Codable {}

/// Where an event came from: the input (index into the run's input list) and its position there.
/// Positions are 1-based line numbers in the (inflated) input, or record numbers for envelopes
/// that are not line-shaped (subscription payloads).
public struct Origin: Sendable, Hashable, Comparable {
  // Packed in 16 bytes (from 40 as three Ints): every piece of evidence the correlation state
  // keeps holds one. -1 is "none".
  private var storedInput: Int32
  private var storedRecord: Int32
  private var storedLine: Int64

  public var input: Int {
    get { Int(storedInput) }
    set { storedInput = Int32(clamping: newValue) }
  }

  public var line: Int? {
    get { storedLine < 0 ? nil : Int(storedLine) }
    set { storedLine = newValue.map(Int64.init) ?? -1 }
  }

  public var record: Int? {
    get { storedRecord < 0 ? nil : Int(storedRecord) }
    set { storedRecord = newValue.map { Int32(clamping: $0) } ?? -1 }
  }

  public init(input: Int, line: Int? = nil, record: Int? = nil) {
    storedInput = Int32(clamping: input)
    storedLine = line.map(Int64.init) ?? -1
    storedRecord = record.map { Int32(clamping: $0) } ?? -1
  }

  public static func < (a: Origin, b: Origin) -> Bool {
    (a.input, a.line ?? 0, a.record ?? 0) < (b.input, b.line ?? 0, b.record ?? 0)
  }
}

/// One CloudWatch log event as an envelope decoder sees it. The message is a view into the
/// decoder's buffer, valid only during the callback that receives it: the hot path never copies
/// a message unless a recognizer keeps it as evidence.
public struct RawEvent {
  /// Event time, epoch milliseconds.
  public var timestamp: EpochMillis
  /// False when the envelope gave no time for this event and it inherited the previous one.
  public var hasOwnTime: Bool
  public var group: String?
  public var stream: String?
  public var message: UnsafeRawBufferPointer
  public var origin: Origin
  /// CloudWatch's event id where the envelope carries one (filter-log-events, subscriptions).
  public var eventId: UnsafeRawBufferPointer?
  /// Where `message` starts in the input file, when its bytes are exactly the file's there (a
  /// line of a regular uncompressed file, read as one line): its evidence is then read back
  /// from the file (see `SourceFile`, handed to the sink by `EventSink.eventsAreIn`).
  public var fileOffset: Int64? = nil
}

/// An owned copy of an event, for tests and the `events` listing.
public struct LogEvent: Sendable, Equatable {
  public var timestamp: EpochMillis
  public var group: String?
  public var stream: String?
  public var message: String
  public var origin: Origin

  public init(_ raw: RawEvent) {
    timestamp = raw.timestamp
    group = raw.group
    stream = raw.stream
    message = String(bytes: raw.message)
    origin = raw.origin
  }
}

/// Receives decoded events and problems. Decoders call it synchronously.
public protocol EventSink {
  mutating func accept(_ event: RawEvent)
  mutating func report(_ diagnostic: Diagnostic)
  /// The events that follow with a `fileOffset` are lines of `file` (called before them).
  mutating func eventsAreIn(_ file: SourceFile)
}

extension EventSink {
  public mutating func eventsAreIn(_ file: SourceFile) {}
}

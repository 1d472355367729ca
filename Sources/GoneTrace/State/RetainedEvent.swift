/// An event kept from an earlier incremental run because it yielded a fact (a connect, a
/// disconnect, a link, a 410): replayed into the next run so a 410 today is classified with the
/// disconnect seen yesterday. Only the 2-hour connection window of them is kept.
public struct RetainedEvent: Sendable, Equatable {
  public var timestamp: EpochMillis
  public var hasOwnTime: Bool
  public var group: String?
  public var stream: String?
  public var message: [UInt8]
  public var origin: Origin
  public var eventId: [UInt8]?

  init(_ raw: RawEvent) {
    timestamp = raw.timestamp
    hasOwnTime = raw.hasOwnTime
    group = raw.group
    stream = raw.stream
    message = Array(raw.message)
    origin = raw.origin
    eventId = raw.eventId.map { Array($0) }
  }

  init(timestamp: EpochMillis, hasOwnTime: Bool, group: String?, stream: String?, message: [UInt8], origin: Origin,
    eventId: [UInt8]?)
  {
    self.timestamp = timestamp
    self.hasOwnTime = hasOwnTime
    self.group = group
    self.stream = stream
    self.message = message
    self.origin = origin
    self.eventId = eventId
  }

  func withRawEvent<R>(_ body: (RawEvent) -> R) -> R {
    message.withUnsafeBytes { m in
      func make(_ id: UnsafeRawBufferPointer?) -> R {
        body(RawEvent(timestamp: timestamp, hasOwnTime: hasOwnTime, group: group, stream: stream, message: m,
          origin: origin, eventId: id))
      }
      if let eventId { return eventId.withUnsafeBytes { make($0) } }
      return make(nil)
    }
  }
}

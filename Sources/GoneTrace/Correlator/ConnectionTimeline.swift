/// A log line that decided something, as reports show it.
public struct Evidence: Sendable, Hashable, Comparable {
  public var origin: Origin
  public var time: EpochMillis
  /// Where the line is kept (see `LineText`); `text` reads it.
  public var body: LineText
  public var text: String { body.string }

  public init(origin: Origin, time: EpochMillis, body: LineText) {
    self.origin = origin
    self.time = time
    self.body = body
  }

  public init(origin: Origin, time: EpochMillis, text: String) {
    self.init(origin: origin, time: time, body: LineText(text))
  }

  public init(_ fact: Fact) {
    self.init(origin: fact.origin, time: fact.time, body: fact.body)
  }

  public static func < (a: Evidence, b: Evidence) -> Bool {
    (a.time, a.body, a.origin) < (b.time, b.body, b.origin)
  }
}

/// Who a client is, for spotting a reconnect: the authorizer's principal when one is logged, else
/// source IP and user agent (or the key chosen with `--client-key`).
public struct ClientIdentity: Sendable, Hashable {
  public var sourceIp: String?
  public var userAgent: String?
  public var principalId: String?

  public init(sourceIp: String? = nil, userAgent: String? = nil, principalId: String? = nil) {
    self.sourceIp = sourceIp
    self.userAgent = userAgent
    self.principalId = principalId
  }

  mutating func fill(from f: FactFields) {
    sourceIp = sourceIp.minNonNil(f.sourceIp)
    userAgent = userAgent.minNonNil(f.userAgent)
    principalId = principalId.minNonNil(f.principalId.flatMap { $0.isEmpty ? nil : $0 })
  }
}

public enum ClientKey: String, Sendable, CaseIterable {
  /// The principal when logged, else source IP + user agent.
  case auto
  case principal
  case ip
  case ipUserAgent = "ip-ua"

  func key(_ c: ClientIdentity) -> String? {
    switch self {
    case .auto:
      if let p = c.principalId { return "principal:" + p }
      return ClientKey.ipUserAgent.key(c)
    case .principal: return c.principalId.map { "principal:" + $0 }
    case .ip: return c.sourceIp.map { "ip:" + $0 }
    case .ipUserAgent:
      guard let ip = c.sourceIp else { return nil }
      return "ip-ua:" + ip + "|" + (c.userAgent ?? "")
    }
  }
}

/// The kind of an API Gateway WebSocket request.
public enum RequestKind: String, Sendable {
  case connect = "CONNECT", message = "MESSAGE", disconnect = "DISCONNECT"

  init?(eventType: String?, routeKey: String?) {
    // Compared directly: a `switch` on a String (`init(rawValue:)`) searches its cases one
    // String comparison at a time, and this runs several times per request line.
    if let e = eventType, let k: RequestKind = e == "MESSAGE" ? .message : e == "CONNECT" ? .connect
      : e == "DISCONNECT" ? .disconnect : nil
    {
      self = k
    } else if let r = routeKey {
      self = r == "$connect" ? .connect : r == "$disconnect" ? .disconnect : .message
    } else {
      return nil
    }
  }
}

/// One API Gateway request on a connection, merged from every line that mentions it (access-log
/// row, proxy event in the execution log, event printed by the Lambda function).
public struct RequestRecord: Sendable {
  // Ids inline, as in `FactFields`: a gigabyte holds a hundred thousand records, and as Strings
  // (16 and 36 characters, past the small-string limit) their three ids were three allocations each.
  var apigw: CompactID?
  var connection: CompactID?
  var lambda: CompactID?

  public var apigwRequestId: String? {
    get { apigw?.string }
    set { apigw = newValue.map(CompactID.init) }
  }
  public var connectionId: String? {
    get { connection?.string }
    set { connection = newValue.map(CompactID.init) }
  }
  public var lambdaRequestId: String? {
    get { lambda?.string }
    set { lambda = newValue.map(CompactID.init) }
  }
  public var kind: RequestKind?
  public var routeKey: String?
  public var status: Int?
  /// When API Gateway received it.
  public var requestedAt: EpochMillis?
  /// The latest log event about it: for a `$connect`, close to when the connect completed.
  public var lastLoggedAt: EpochMillis = .min
  public var firstLoggedAt: EpochMillis = .max
  public var connectedAt: EpochMillis?
  public var disconnectStatusCode: Int?
  public var disconnectReason: String?
  public var client = ClientIdentity()
  public var evidence: [Evidence] = []

  /// Merges are commutative (min of values, sorted evidence), so the result never depends on
  /// the order lines were read in.
  mutating func absorb(_ f: FactFields, time: EpochMillis, evidence e: Evidence?) {
    apigw = apigw.minNonNil(f.apigw)
    connection = connection.minNonNil(f.connection)
    if let k = RequestKind(eventType: f.eventType, routeKey: f.routeKey) {
      kind = kind.map { $0.rawValue < k.rawValue ? $0 : k } ?? k
    }
    routeKey = routeKey.minNonNil(f.routeKey)
    status = status.minNonNil(f.status)
    requestedAt = requestedAt.minNonNil(f.requestTime)
    lastLoggedAt = max(lastLoggedAt, time)
    firstLoggedAt = min(firstLoggedAt, time)
    connectedAt = connectedAt.minNonNil(f.connectedAt)
    disconnectStatusCode = disconnectStatusCode.minNonNil(f.disconnectStatusCode)
    disconnectReason = disconnectReason.maxNonNil(f.disconnectReason)
    client.fill(from: f)
    lambda = lambda.minNonNil(f.lambda)
    if let e { RequestRecord.insert(e, into: &evidence) }
  }

  mutating func absorb(_ other: RequestRecord) {
    var f = FactFields()
    f.apigw = other.apigw
    f.connection = other.connection
    f.eventType = other.kind?.rawValue
    f.routeKey = other.routeKey
    f.status = other.status
    f.requestTime = other.requestedAt
    f.connectedAt = other.connectedAt
    f.disconnectStatusCode = other.disconnectStatusCode
    f.disconnectReason = other.disconnectReason
    f.sourceIp = other.client.sourceIp
    f.userAgent = other.client.userAgent
    f.principalId = other.client.principalId
    f.lambda = other.lambda
    absorb(f, time: other.lastLoggedAt, evidence: nil)
    firstLoggedAt = min(firstLoggedAt, other.firstLoggedAt)
    for e in other.evidence { RequestRecord.insert(e, into: &evidence) }
  }

  /// Keeps at most a few lines per request: the earliest ones, deterministically.
  static let maxEvidence = 4
  static func insert(_ e: Evidence, into list: inout [Evidence]) {
    // The same line read from two inputs (overlapping exports) is one line: keep the first copy.
    if let i = list.firstIndex(where: { $0.time == e.time && $0.body == e.body }) {
      if e.origin < list[i].origin { list[i] = e }
      return
    }
    if list.count == maxEvidence, let last = list.last, !(e < last) { return }
    let at = list.firstIndex { e < $0 } ?? list.count
    list.insert(e, at: at)
    if list.count > maxEvidence { list.removeLast() }
  }

  /// Best estimate of when the request happened.
  public var time: EpochMillis { requestedAt ?? firstLoggedAt }
}

/// The inbound messages of a connection, summarised: a connection may carry thousands.
public struct MessageActivity: Sendable {
  public var first: EpochMillis = .max
  public var last: EpochMillis = .min
  /// The line of the latest message (ties broken by the evidence order, so merges commute).
  public var lastEvidence: Evidence?

  /// Returns the line let go: the one replaced, or `evidence`'s own when it is not the latest
  /// (nil when nothing was held).
  @discardableResult
  mutating func absorb(_ time: EpochMillis, _ evidence: Evidence) -> LineText? {
    first = min(first, time)
    if time > last || (time == last && lastEvidence.map { evidence < $0 } ?? true) {
      last = time
      defer { lastEvidence = evidence }
      return lastEvidence?.body
    }
    return evidence.body
  }

  mutating func absorb(_ other: MessageActivity) {
    first = min(first, other.first)
    if let e = other.lastEvidence { absorb(other.last, e) }
  }
}

/// Everything the logs say about one connection, in time order.
public struct ConnectionTimeline: Sendable {
  public var connectionId: String
  public var connects: [RequestRecord] = []
  public var messages: [RequestRecord] = []
  public var disconnects: [RequestRecord] = []
  public var activity: MessageActivity?
  public var client = ClientIdentity()

  // The properties below loop over indices: they are read for every connection and every
  // call, and `map`/`filter`/`+` over the records built arrays and copied each record (with
  // its strings' reference counts) only to take a minimum.

  /// The least of `value` over `list`'s records, nil when it is nil for all.
  private static func least(_ list: [RequestRecord], _ value: (borrowing RequestRecord) -> EpochMillis?) -> EpochMillis? {
    var result: EpochMillis?
    for i in list.indices { result = result.minNonNil(value(list[i])) }
    return result
  }

  /// When `$connect` was requested.
  public var connectRequestedAt: EpochMillis? {
    Self.least(connects) { $0.time } ?? Self.least(messages) { $0.connectedAt } ?? Self.least(disconnects) { $0.connectedAt }
  }

  /// Whether a `$connect` succeeded: true if any attempt returned 2xx, false if every attempt
  /// with a known status failed, nil when no status is known.
  public var connectSucceeded: Bool? {
    if connects.indices.contains(where: { connects[$0].status.map { (200..<300).contains($0) } ?? false }) { return true }
    if !messages.isEmpty || activity != nil { return true }  // messages arrive only on an established connection
    return connects.indices.contains { connects[$0].status != nil } ? false : nil
  }

  public var connectFailureStatus: Int? {
    var least: Int?
    for i in connects.indices {
      if let s = connects[i].status, !(200..<300).contains(s) { least = least.minNonNil(s) }
    }
    return least
  }

  /// The latest line about a successful `$connect` (its access-log row, the end of its integration).
  public var connectCompletedAt: EpochMillis? {
    var latest: EpochMillis?
    for i in connects.indices where connects[i].status.map({ (200..<300).contains($0) }) ?? true {
      latest = latest.maxNonNil(connects[i].lastLoggedAt)
    }
    return latest
  }

  /// When the connection was opened (`connectedAt` from any event, else the connect request).
  public var openedAt: EpochMillis? {
    Self.least(connects) { $0.connectedAt }.minNonNil(Self.least(messages) { $0.connectedAt })
      .minNonNil(Self.least(disconnects) { $0.connectedAt }) ?? connectRequestedAt
  }

  public var disconnect: RequestRecord? { disconnects.min { $0.time < $1.time } }

  /// When the logs first mention the connection: its earliest line (a message's request time
  /// stands for its line, which only the latest message keeps).
  public var firstLoggedAt: EpochMillis {
    var first = activity?.first ?? .max
    for list in [connects, messages, disconnects] {
      for i in list.indices { first = min(first, list[i].firstLoggedAt) }
    }
    return first
  }

  /// Last inbound traffic: the latest message, else the connect.
  public var lastActivityAt: EpochMillis? {
    var latest = activity?.last
    for i in messages.indices { latest = latest.maxNonNil(messages[i].time) }
    return latest ?? connectCompletedAt ?? connectRequestedAt
  }

  /// The line of the latest inbound message, else the connect's lines.
  public var lastActivityEvidence: [Evidence] {
    let fromRecords = messages.max { $0.time < $1.time }
    if let a = activity, let e = a.lastEvidence, a.last >= (fromRecords?.time ?? .min) { return [e] }
    return fromRecords?.evidence ?? connects.flatMap(\.evidence)
  }
}

extension Optional where Wrapped: Comparable {
  func minNonNil(_ other: Wrapped?) -> Wrapped? {
    guard let other else { return self }
    guard let self else { return other }
    return Swift.min(self, other)
  }

  func maxNonNil(_ other: Wrapped?) -> Wrapped? {
    guard let other else { return self }
    guard let self else { return other }
    return Swift.max(self, other)
  }
}

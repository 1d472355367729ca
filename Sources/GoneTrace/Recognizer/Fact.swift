/// The fields a recognition rule can capture, by named group or by key extraction. Raw captures
/// are parsed into typed values here, once.
public enum Field: String, CaseIterable, Sendable, Codable {
  case connectionId, apigwRequestId, lambdaRequestId, sdkRequestId, operation
  case eventType, routeKey, status, requestTime, requestTimeEpoch, connectedAt
  case disconnectStatusCode, disconnectReason, sourceIp, userAgent, principalId
  /// `call` (the default): a line recording a failed call. `echo`: a line that repeats an error
  /// already recorded (the runtime's uncaught-error record, API Gateway's view of the failed
  /// integration); it adds evidence to the call it echoes and stands alone only when nothing else
  /// recorded that call.
  case role
}

extension Field {
  /// Key-extracted fields are read in this order: first what tells a MESSAGE request (most of
  /// a busy API's requests), so that the fields a message does not need are never read; and
  /// `requestTimeEpoch` before `requestTime`, which it always overrides.
  var extractionRank: Int {
    switch self {
    case .connectionId, .eventType, .routeKey: 0
    case .requestTimeEpoch: 1
    default: 2
    }
  }

  /// What a MESSAGE request's fact is folded into the state with (`CorrelationState.add`:
  /// when and on which connection, and the request id its Lambda link is found by). Client
  /// and connect / disconnect details matter only for the requests kept whole.
  var describesMessages: Bool {
    switch self {
    case .connectionId, .eventType, .routeKey, .apigwRequestId, .lambdaRequestId, .requestTime, .requestTimeEpoch: true
    default: false
    }
  }
}

/// Typed values of a fact. Unknown values are nil.
public struct FactFields: Sendable, Equatable, Hashable {
  // The three ids are held inline (`CompactID`): nearly every fact names one or two, and as
  // Strings (16 and 36 bytes, past the small-string limit) each was an allocation, a copy per
  // fact copy, and parsed again by the state that keys on them. Equal exactly when the strings are.
  var connection: CompactID?
  var apigw: CompactID?
  var lambda: CompactID?

  public var connectionId: String? {
    get { connection?.string }
    set { connection = newValue.map(CompactID.init) }
  }
  public var apigwRequestId: String? {
    get { apigw?.string }
    set { apigw = newValue.map(CompactID.init) }
  }
  public var lambdaRequestId: String? {
    get { lambda?.string }
    set { lambda = newValue.map(CompactID.init) }
  }
  public var eventType: String?
  public var routeKey: String?
  /// When API Gateway received the request (`requestTimeEpoch`, else the CLF `requestTime`).
  public var requestTime: EpochMillis?
  public var isEcho = false

  // The fields only lifecycle requests and 410 lines carry live out of line: most facts
  // (messages, links, invocation bounds) have none of them. A fact is built, moved into the
  // recognizer's list and out into the state; with nine more optional Strings and numbers
  // inline it was 408 bytes, each move a `memmove` and each copy nine more retains.
  private var details = OutOfLineDetails()

  public var sdkRequestId: String? {
    get { details.read { $0.sdkRequestId } }
    set { details.modify(creating: newValue != nil) { $0.sdkRequestId = newValue } }
  }
  public var operation: String? {
    get { details.read { $0.operation } }
    set { details.modify(creating: newValue != nil) { $0.operation = newValue } }
  }
  public var status: Int? {
    get { details.read { $0.status } }
    set { details.modify(creating: newValue != nil) { $0.status = newValue } }
  }
  public var connectedAt: EpochMillis? {
    get { details.read { $0.connectedAt } }
    set { details.modify(creating: newValue != nil) { $0.connectedAt = newValue } }
  }
  public var disconnectStatusCode: Int? {
    get { details.read { $0.disconnectStatusCode } }
    set { details.modify(creating: newValue != nil) { $0.disconnectStatusCode = newValue } }
  }
  public var disconnectReason: String? {
    get { details.read { $0.disconnectReason } }
    set { details.modify(creating: newValue != nil) { $0.disconnectReason = newValue } }
  }
  public var sourceIp: String? {
    get { details.read { $0.sourceIp } }
    set { details.modify(creating: newValue != nil) { $0.sourceIp = newValue } }
  }
  public var userAgent: String? {
    get { details.read { $0.userAgent } }
    set { details.modify(creating: newValue != nil) { $0.userAgent = newValue } }
  }
  public var principalId: String? {
    get { details.read { $0.principalId } }
    set { details.modify(creating: newValue != nil) { $0.principalId = newValue } }
  }
  var namedOperation: String? {
    get { details.read { $0.namedOperation } }
    set { details.modify(creating: newValue != nil) { $0.namedOperation = newValue } }
  }

  public init() {}

  /// Sets a field from its raw text. Returns false when the text does not fit the field (a
  /// request id that is a Lambda UUID, a status that is not a number): the caller then keeps
  /// looking for a better occurrence.
  @discardableResult
  mutating func set(_ field: Field, raw: String) -> Bool {
    var copy = raw
    return copy.withUTF8 { set(field, bytes: UnsafeRawBufferPointer($0)) }
  }

  /// `set(_:raw:)` on the bytes of a match: a value is checked before it becomes a String, and
  /// numbers, times and rejected values never do (the recognizer sets a dozen fields per line).
  @discardableResult
  mutating func set(_ field: Field, bytes raw: UnsafeRawBufferPointer) -> Bool {
    // Access logs print unset variables as "-" (elastic/integrations fixture, §2.3).
    if raw.isEmpty && field != .disconnectReason || raw.count == 1 && raw[0] == UInt8(ascii: "-") { return false }
    switch field {
    case .connectionId:
      connection = raw.contains(UInt8(ascii: "%"))
        ? CompactID(Bytes.percentDecoded(String(bytes: raw))) : CompactID(bytes: raw)
    case .apigwRequestId:
      // Execution logs and access logs name WebSocket requests by 16-character ids; a UUID in a
      // `requestId` key of a Lambda JSON log line is the Lambda invocation's, not API Gateway's.
      guard !FactFields.isUUID(raw) else { return false }
      apigw = CompactID(bytes: raw)
    case .lambdaRequestId:
      // Kept in lower case: the value of a UUID does not depend on the case of its digits.
      guard let v = Bytes.uuid(raw) else { return false }
      lambda = .uuid(v.hi, v.lo)
    case .sdkRequestId: sdkRequestId = String(bytes: raw)
    case .operation: operation = String(bytes: raw)
    case .eventType: eventType = FactFields.upper(String(bytes: raw))
    case .routeKey: routeKey = String(bytes: raw)
    case .status:
      guard let v = FactFields.integer(raw) else { return false }
      status = v
    case .requestTime:
      guard let t = Timestamp.parseAny(raw) else { return false }
      if requestTime == nil { requestTime = t }
    case .requestTimeEpoch:
      guard let t = Timestamp.parseAny(raw) else { return false }
      requestTime = t  // more precise than the CLF time: always wins
    case .connectedAt:
      guard let t = Timestamp.parseAny(raw) else { return false }
      connectedAt = t
    case .disconnectStatusCode:
      guard let v = FactFields.integer(raw) else { return false }
      disconnectStatusCode = v
    case .disconnectReason: disconnectReason = String(bytes: raw)
    case .sourceIp: sourceIp = String(bytes: raw)
    case .userAgent: userAgent = String(bytes: raw)
    case .principalId: principalId = String(bytes: raw)
    case .role: isEcho = raw.elementsEqual("echo".utf8)
    }
    return true
  }

  /// `Int(text)`: plain digits parsed in place, anything else (a sign) the standard way.
  private static func integer(_ raw: UnsafeRawBufferPointer) -> Int? {
    if let v = Bytes.parseInt(raw) { return Int(v) }
    return Int(String(bytes: raw))
  }

  func has(_ field: Field) -> Bool {
    switch field {
    case .connectionId: connection != nil
    case .apigwRequestId: apigw != nil
    case .lambdaRequestId: lambda != nil
    case .sdkRequestId: sdkRequestId != nil
    case .operation: operation != nil
    case .eventType: eventType != nil
    case .routeKey: routeKey != nil
    case .status: status != nil
    case .requestTime, .requestTimeEpoch: requestTime != nil
    case .connectedAt: connectedAt != nil
    case .disconnectStatusCode: disconnectStatusCode != nil
    case .disconnectReason: disconnectReason != nil
    case .sourceIp: sourceIp != nil
    case .userAgent: userAgent != nil
    case .principalId: principalId != nil
    case .role: isEcho
    }
  }

  static func isUUID(_ u: UnsafeRawBufferPointer) -> Bool { Bytes.uuid(u) != nil }

  /// `uppercased()` only when needed (event types are logged in upper case already).
  static func upper(_ s: String) -> String {
    var copy = s
    let lower = copy.withUTF8 { u in u.contains { $0 &- 0x61 < 26 || $0 >= 0x80 } }
    return lower ? s.uppercased() : s
  }
}

/// The fields of a fact that most facts do not have (see `FactFields.details`).
struct FactDetails: Sendable, Hashable {
  var sdkRequestId: String?
  var operation: String?
  var status: Int?
  var connectedAt: EpochMillis?
  var disconnectStatusCode: Int?
  var disconnectReason: String?
  var sourceIp: String?
  var userAgent: String?
  var principalId: String?
  /// The @connections operation a 410 line's text names (`GoneCall.operationNamed`), for calls
  /// no rule captured one for: found where the line is at hand, so assembling calls reads no
  /// line back (it read one per line of every call, a quarter of a gigabyte run's reads).
  var namedOperation: String?
}

/// `FactDetails` out of line (a shared box holding a pointer to it), copied on write; absent
/// until something is set in it.
/// Equal and hashed by value: an empty box equals no box.
struct OutOfLineDetails: Sendable, Hashable {
  // Mutated only through `modify`, and only when no other value shares it. The value is behind
  // a pointer, not a stored `var`, whose every read would be checked for exclusivity at run time.
  private final class Box: @unchecked Sendable {
    let value: UnsafeMutablePointer<FactDetails>
    init(_ value: FactDetails) {
      self.value = .allocate(capacity: 1)
      self.value.initialize(to: value)
    }
    deinit {
      value.deinitialize(count: 1)
      value.deallocate()
    }
  }
  private var box: Box?
  private static let empty = FactDetails()

  /// One field of the details (nil without details): only that field is copied. (Read through
  /// `value`, a field copied all of the details first, seven strings retained and released, a
  /// few times for every request line.)
  @inline(__always)
  func read<T>(_ field: (borrowing FactDetails) -> T?) -> T? {
    guard let box else { return nil }
    return field(box.value.pointee)
  }

  /// The details as a whole (equality, hashing).
  var value: FactDetails {
    _read {
      if let box { yield box.value.pointee } else { yield Self.empty }
    }
  }

  /// Changes the details with `body`, unshared first; without details yet, only when `creating`
  /// (setting a field to nil needs none). A closure, not a key path: a generic key-path setter
  /// instantiated its key path at run time on every call.
  mutating func modify(creating: Bool, _ body: (inout FactDetails) -> Void) {
    if box == nil {
      guard creating else { return }
      box = Box(Self.empty)
    } else if !isKnownUniquelyReferenced(&box!) {
      box = Box(box!.value.pointee)
    }
    body(&box!.value.pointee)
  }

  static func == (a: Self, b: Self) -> Bool { a.box === b.box || a.value == b.value }
  func hash(into hasher: inout Hasher) { hasher.combine(value) }
}

/// What a recognition rule found in one log event.
public struct Fact: Sendable, Equatable {
  public enum Kind: String, Sendable, Codable, CaseIterable {
    /// A failed @connections call that returned 410.
    case gone
    /// A line naming the connection a management call in this invocation was aimed at.
    case target
    /// An API Gateway request on a connection: CONNECT / MESSAGE / DISCONNECT with what is known of it.
    case request
    /// API Gateway request id <-> Lambda invocation id.
    case link
    /// Lambda `START` / `END` (or `REPORT`): bounds lines without a request id to their invocation.
    case invocationStart = "invocation-start"
    case invocationEnd = "invocation-end"
    /// Names the Lambda invocation of the line itself (runtime prefixes): context for the event's other facts.
    case invocation
  }

  public var kind: Kind
  public var rule: String
  public var time: EpochMillis
  public var origin: Origin
  public var group: String?
  public var stream: String?
  public var fields: FactFields
  /// The message, kept as evidence (empty for facts that are never shown).
  public var body: LineText
  public var text: String { body.string }
  /// CloudWatch's event id, where the envelope gave one (kept for 410 lines: it tells a line
  /// read twice from two distinct events with the same time and text).
  public var eventId: String? = nil

  /// An inbound message on a known connection: folded into that connection's activity, its
  /// line kept only until the next message replaces it.
  var isMessageRequest: Bool { Fact.isMessageRequest(kind, fields) }

  static func isMessageRequest(_ kind: Kind, _ fields: borrowing FactFields) -> Bool {
    kind == .request && fields.connection != nil
      && RequestKind(eventType: fields.eventType, routeKey: fields.routeKey) == .message
  }

  public init(kind: Kind, rule: String, time: EpochMillis, origin: Origin, group: String? = nil, stream: String? = nil,
    fields: FactFields, body: LineText, eventId: String? = nil)
  {
    self.init()
    fill(kind: kind, rule: rule, time: time, origin: origin, group: group, stream: stream, fields: fields)
    self.body = body
    self.eventId = eventId
    // The recognizer sets it from the line's bytes (its facts start with an empty body); a fact
    // built with its line (tests, library users) gets it here.
    if kind == .gone, body.byteCount > 0 {
      self.fields.namedOperation = body.withBytes(GoneCall.operationNamed(in:))
    }
  }

  /// A fact of nothing, holding no object: the recognizer appends one and fills it in place
  /// (`fill`). A fact built aside and appended was copied into the list and the original
  /// destroyed: a retain and a release of each of its reference-counted fields, two facts a line.
  /// (Built, not copied from a stored blank: a copy calls retain on each of its empty fields.)
  init() {
    kind = .gone
    rule = ""
    time = 0
    origin = Origin(input: 0)
    fields = FactFields()
    body = LineText("")
  }

  /// Makes this fact the recognizer's: its line is given later (`Recognizer.finish`, shown facts only).
  mutating func fill(kind: Kind, rule: String, time: EpochMillis, origin: Origin, group: String?, stream: String?,
    fields: consuming FactFields)
  {
    self.kind = kind
    self.rule = rule
    self.time = time
    self.origin = origin
    self.group = group
    self.stream = stream
    self.fields = fields
  }

  public init(kind: Kind, rule: String, time: EpochMillis, origin: Origin, group: String? = nil, stream: String? = nil,
    fields: FactFields, text: String, eventId: String? = nil)
  {
    self.init(kind: kind, rule: rule, time: time, origin: origin, group: group, stream: stream, fields: fields,
      body: LineText(text), eventId: eventId)
  }
}

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

/// Typed values of a fact. Unknown values are nil.
public struct FactFields: Sendable, Equatable, Hashable {
  public var connectionId: String?
  public var apigwRequestId: String?
  public var lambdaRequestId: String?
  public var sdkRequestId: String?
  public var operation: String?
  public var eventType: String?
  public var routeKey: String?
  public var status: Int?
  /// When API Gateway received the request (`requestTimeEpoch`, else the CLF `requestTime`).
  public var requestTime: EpochMillis?
  public var connectedAt: EpochMillis?
  public var disconnectStatusCode: Int?
  public var disconnectReason: String?
  public var sourceIp: String?
  public var userAgent: String?
  public var principalId: String?
  public var isEcho = false

  public init() {}

  /// Sets a field from its raw text. Returns false when the text does not fit the field (a
  /// request id that is a Lambda UUID, a status that is not a number): the caller then keeps
  /// looking for a better occurrence.
  @discardableResult
  mutating func set(_ field: Field, raw: String) -> Bool {
    // Access logs print unset variables as "-" (elastic/integrations fixture, §2.3).
    if raw.isEmpty && field != .disconnectReason || raw == "-" { return false }
    switch field {
    case .connectionId:
      connectionId = Bytes.percentDecoded(raw)
    case .apigwRequestId:
      // Execution logs and access logs name WebSocket requests by 16-character ids; a UUID in a
      // `requestId` key of a Lambda JSON log line is the Lambda invocation's, not API Gateway's.
      guard !FactFields.isUUID(raw) else { return false }
      apigwRequestId = raw
    case .lambdaRequestId:
      guard FactFields.isUUID(raw) else { return false }
      lambdaRequestId = FactFields.hasUppercase(raw) ? raw.lowercased() : raw
    case .sdkRequestId: sdkRequestId = raw
    case .operation: operation = raw
    case .eventType: eventType = FactFields.upper(raw)
    case .routeKey: routeKey = raw
    case .status:
      guard let v = Int(raw) else { return false }
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
      guard let v = Int(raw) else { return false }
      disconnectStatusCode = v
    case .disconnectReason: disconnectReason = raw
    case .sourceIp: sourceIp = raw
    case .userAgent: userAgent = raw
    case .principalId: principalId = raw
    case .role: isEcho = raw == "echo"
    }
    return true
  }

  func has(_ field: Field) -> Bool {
    switch field {
    case .connectionId: connectionId != nil
    case .apigwRequestId: apigwRequestId != nil
    case .lambdaRequestId: lambdaRequestId != nil
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

  static func isUUID(_ s: String) -> Bool {
    var copy = s
    return copy.withUTF8 { u in
      guard u.count == 36 else { return false }
      for i in 0..<36 {
        let c = u[i]
        if i == 8 || i == 13 || i == 18 || i == 23 {
          if c != UInt8(ascii: "-") { return false }
        } else if !Bytes.isHex(c) {
          return false
        }
      }
      return true
    }
  }

  static func hasUppercase(_ s: String) -> Bool {
    var copy = s
    return copy.withUTF8 { u in u.contains { $0 &- 0x41 < 26 } }
  }

  /// `uppercased()` only when needed (event types are logged in upper case already).
  static func upper(_ s: String) -> String {
    var copy = s
    let lower = copy.withUTF8 { u in u.contains { $0 &- 0x61 < 26 || $0 >= 0x80 } }
    return lower ? s.uppercased() : s
  }
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
  var isMessageRequest: Bool {
    kind == .request && fields.connectionId != nil
      && RequestKind(eventType: fields.eventType, routeKey: fields.routeKey) == .message
  }

  public init(kind: Kind, rule: String, time: EpochMillis, origin: Origin, group: String? = nil, stream: String? = nil,
    fields: FactFields, body: LineText, eventId: String? = nil)
  {
    self.kind = kind
    self.rule = rule
    self.time = time
    self.origin = origin
    self.group = group
    self.stream = stream
    self.fields = fields
    self.body = body
    self.eventId = eventId
  }

  public init(kind: Kind, rule: String, time: EpochMillis, origin: Origin, group: String? = nil, stream: String? = nil,
    fields: FactFields, text: String, eventId: String? = nil)
  {
    self.init(kind: kind, rule: rule, time: time, origin: origin, group: group, stream: stream, fields: fields,
      body: LineText(text), eventId: eventId)
  }
}

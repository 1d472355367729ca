import Foundation
import Testing
@testable import GoneTrace

/// Builds small logs from the verbatim templates of shared/reference/log-formats.md:
/// execution-log lines (§1.3, §1.4), access-log rows (§2.3), Lambda runtime lines (§3.3, §3.10).
struct Scenario {
  var execution: [String] = []
  var access: [String] = []
  var lambda: [String] = []
  let base = ms("2024-05-09T10:00:00Z")

  func at(_ seconds: Double) -> String { Timestamp.format(base + EpochMillis(seconds * 1000)) }

  /// `$context.requestTime` (CLF, whole seconds): `09/May/2024:10:00:42 +0000`.
  func clf(_ seconds: Double) -> String {
    let iso = at(seconds)  // 2024-05-09T10:00:42.000Z
    let hms = iso.dropFirst(11).prefix(8)
    return "09/May/2024:\(hms) +0000"
  }

  /// `$connect` seen by API Gateway: the proxy event (§1.4 a), the integration link (§1.3) and the access row (§2.3).
  mutating func connect(_ id: String, request: String, lambda: String, at t: Double, done: Double, status: Int = 200,
    ip: String = "49.105.91.154", ua: String = "Mozilla/5.0")
  {
    let epoch = base + EpochMillis(t * 1000)
    execution.append("\(at(t)) (\(request)) Endpoint request body after transformations: {\"requestContext\":{\"routeKey\":\"$connect\",\"eventType\":\"CONNECT\",\"extendedRequestId\":\"\(request)\",\"requestTime\":\"\(clf(t))\",\"messageDirection\":\"IN\",\"stage\":\"prod\",\"connectedAt\":\(epoch),\"requestTimeEpoch\":\(epoch),\"identity\":{\"userAgent\":\"\(ua)\",\"sourceIp\":\"\(ip)\"},\"requestId\":\"\(request)\",\"connectionId\":\"\(id)\",\"apiId\":\"dl7ptocha9\"},\"isBase64Encoded\":false}")
    execution.append("\(at(done)) (\(request)) AWS Integration Endpoint RequestId : \(lambda)")
    access.append("\(at(done)) {\"requestId\":\"\(request)\",\"ip\":\"\(ip)\",\"caller\":\"-\",\"user\":\"-\",\"requestTime\":\"\(clf(t))\",\"eventType\":\"CONNECT\",\"routeKey\":\"$connect\",\"status\":\"\(status)\",\"connectionId\":\"\(id)\"}")
  }

  mutating func message(_ id: String, request: String, at t: Double) {
    access.append("\(at(t)) {\"requestId\":\"\(request)\",\"ip\":\"49.105.91.154\",\"caller\":\"-\",\"user\":\"-\",\"requestTime\":\"\(clf(t))\",\"eventType\":\"MESSAGE\",\"routeKey\":\"$default\",\"status\":\"200\",\"connectionId\":\"\(id)\"}")
  }

  /// `$disconnect` proxy event (§1.4 a / §2.4 shapes).
  mutating func disconnect(_ id: String, request: String, at t: Double, connectedAt: Double, code: Int, reason: String,
    ip: String = "49.105.91.154")
  {
    let epoch = base + EpochMillis(t * 1000)
    execution.append("\(at(t)) (\(request)) Endpoint request body after transformations: {\"requestContext\":{\"routeKey\":\"$disconnect\",\"disconnectStatusCode\":\(code),\"eventType\":\"DISCONNECT\",\"extendedRequestId\":\"\(request)\",\"messageDirection\":\"IN\",\"disconnectReason\":\"\(reason)\",\"stage\":\"prod\",\"connectedAt\":\(base + EpochMillis(connectedAt * 1000)),\"requestTimeEpoch\":\(epoch),\"identity\":{\"userAgent\":\"Mozilla/5.0\",\"sourceIp\":\"\(ip)\"},\"requestId\":\"\(request)\",\"connectionId\":\"\(id)\",\"apiId\":\"dl7ptocha9\"},\"isBase64Encoded\":false}")
  }

  /// Node SDK v3 in a `$connect` or broadcast Lambda: START, the app line, the uncaught Invoke Error, END.
  mutating func nodeV3Gone(lambda: String, at t: Double, target: String?) {
    lambda_(t - 0.05, "START RequestId: \(lambda) Version: $LATEST")
    if let target {
      lambda_(t, "\(at(t))\t\(lambda)\tERROR\tError sending to connection \(target): GoneException: UnknownError")
    }
    lambda_(t + 0.01, "\(at(t + 0.01))\t\(lambda)\tERROR\tInvoke Error \t{\"errorType\":\"GoneException\",\"errorMessage\":\"UnknownError\",\"name\":\"GoneException\",\"$fault\":\"client\",\"$metadata\":{\"httpStatusCode\":410,\"requestId\":\"123456789\",\"attempts\":1,\"totalRetryDelay\":0}}")
    lambda_(t + 0.02, "END RequestId: \(lambda)")
  }

  mutating func lambda_(_ t: Double, _ message: String) { lambda.append("\(at(t)) \(message)") }

  func analyze(shuffled seed: UInt64? = nil) -> Analysis {
    let dir = Fixture.directory()
    var generator = SeededGenerator(seed: seed ?? 0)
    for (name, lines) in [("exec.log", execution), ("access.log", access), ("lambda.log", lambda)] where !lines.isEmpty {
      let ordered = seed == nil ? lines : lines.shuffled(using: &generator)
      Fixture.write(ordered.joined(separator: "\n") + "\n", to: dir.appendingPathComponent(name))
    }
    return Analyzer.run(paths: [dir.path], options: AnalysisOptions())
  }
}

struct SeededGenerator: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
  mutating func next() -> UInt64 {
    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    return state ^ (state >> 29)
  }
}

/// What identifies a verdict independently of where its lines were read.
struct VerdictKey: Hashable, CustomStringConvertible {
  var time: EpochMillis, connectionId: String?, cause: String, detail: String, newConnectionId: String?, evidence: [String]
  init(_ v: Verdict) {
    time = v.time
    connectionId = v.connectionId
    cause = v.cause.rawValue
    detail = v.detail.rawValue
    newConnectionId = v.newConnectionId
    evidence = v.evidence.map(\.text)
  }
  var description: String { "\(Timestamp.format(time)) \(connectionId ?? "-") \(cause)/\(detail)" }
}

@Suite struct ClassifierTests {
  let l1 = "a57bdd96-bb4d-4a3c-bff0-226eed1171c1", l2 = "4e8cfa2f-d871-49cb-b49b-3b023add146f"
  let l3 = "c793869b-ee49-115b-a5b6-4fd21e8dedac"

  @Test func postedFromTheConnectHandler() throws {
    var s = Scenario()
    s.connect("R1kmxc2VNjMCFIA=", request: "R1knPH17NjMFftw=", lambda: l1, at: 0, done: 0.4, status: 502)
    s.nodeV3Gone(lambda: l1, at: 0.2, target: nil)  // the handler posts to event.requestContext.connectionId
    let v = try #require(s.analyze().verdicts.first)
    #expect(s.analyze().verdicts.count == 1)
    #expect(v.detail == .postedFromConnectHandler)
    #expect(v.cause == .preConnectPost)
    #expect(v.connectionId == "R1kmxc2VNjMCFIA=")
    #expect(v.lambdaRequestId == l1)
    #expect(v.confidence == .high)
    #expect(v.evidence.contains { $0.text.contains("AWS Integration Endpoint RequestId") })
  }

  @Test func postedBeforeTheConnectCompleted() throws {
    var s = Scenario()
    s.connect("R1kmxc2VNjMCFIA=", request: "R1knPH17NjMFftw=", lambda: l1, at: 0, done: 3)
    s.nodeV3Gone(lambda: l2, at: 0.5, target: "R1kmxc2VNjMCFIA=")  // another function, too early
    let v = try #require(s.analyze().verdicts.first)
    #expect(v.detail == .postedBeforeConnectCompleted)
  }

  @Test func connectRejected() throws {
    var s = Scenario()
    s.connect("Iq8gj1UmIAMCKpA=", request: "Iq9gjE_aIAMFZTg=", lambda: l1, at: 0, done: 0.3, status: 500)
    s.nodeV3Gone(lambda: l2, at: 60, target: "Iq8gj1UmIAMCKpA=")
    let v = try #require(s.analyze().verdicts.first)
    #expect(v.detail == .connectRejected)
  }

  @Test(arguments: [
    (1001, "", 30.0, Detail.clientClosed),
    (1005, "Client-side close frame status not set", 30.0, .clientClosed),
    (1001, "Going away", 660.0, .idleTimeout),
    (1000, "Connection Closed Normally", 30.0, .deletedByBackend),
    (1009, "", 30.0, .messageTooBig),
    (1001, "Going away", 7230.0, .maxDuration),
  ])
  func terminated(code: Int, reason: String, closeAt: Double, expected: Detail) throws {
    var s = Scenario()
    s.connect("R1kmxc2VNjMCFIA=", request: "R1knPH17NjMFftw=", lambda: l1, at: 0, done: 0.3)
    s.message("R1kmxc2VNjMCFIA=", request: "R1knPc2ntjMCFIA=", at: 5)
    s.disconnect("R1kmxc2VNjMCFIA=", request: "R1koeHsUtjMFbRw=", at: closeAt, connectedAt: 0, code: code, reason: reason)
    s.nodeV3Gone(lambda: l2, at: closeAt + 20, target: "R1kmxc2VNjMCFIA=")
    let a = s.analyze()
    let v = try #require(a.verdicts.first)
    #expect(a.verdicts.count == 1)
    #expect(v.detail == expected)
    #expect(v.connection?.disconnectStatusCode == code)
  }

  @Test func unloggedDisconnectAfterIdleTimeout() throws {
    var s = Scenario()
    s.connect("R1kmxc2VNjMCFIA=", request: "R1knPH17NjMFftw=", lambda: l1, at: 0, done: 0.3)
    s.nodeV3Gone(lambda: l2, at: 900, target: "R1kmxc2VNjMCFIA=")
    let v = try #require(s.analyze().verdicts.first)
    #expect(v.detail == .unloggedDisconnect)
    #expect(v.explanation.contains("10 minutes"))
  }

  /// The client at 203.0.113.10 connects, closes at 40 s (`closeCode`), opens a second
  /// connection (requested at `again`, established at `established`, closed at `secondClosed`),
  /// and a Lambda posts to the first id at 50 s: the verdict on that call.
  func reconnecting(closeCode: Int = 1001, again: Double = 42, established: Double = 42.3,
    secondClosed: Double? = nil) throws -> Verdict
  {
    var s = Scenario()
    s.connect("R1kmxc2VNjMCFIA=", request: "R1knPH17NjMFftw=", lambda: l1, at: 0, done: 0.3, ip: "203.0.113.10")
    s.disconnect("R1kmxc2VNjMCFIA=", request: "R1koeHsUtjMFbRw=", at: 40, connectedAt: 0, code: closeCode, reason: "",
      ip: "203.0.113.10")
    s.connect("VNRUSeldSwMCIRQ=", request: "VNRXVFJOywMF3-Q=", lambda: l3, at: again, done: established, ip: "203.0.113.10")
    if let secondClosed {
      s.disconnect("VNRUSeldSwMCIRQ=", request: "VNRbbbbbbbMF3-Q=", at: secondClosed, connectedAt: again, code: 1001,
        reason: "", ip: "203.0.113.10")
    }
    s.nodeV3Gone(lambda: l2, at: 50, target: "R1kmxc2VNjMCFIA=")
    return try #require(s.analyze().verdicts.first)
  }

  @Test func reconnectWithTheOldId() throws {
    let v = try reconnecting(closeCode: 1006)
    #expect(v.cause == .reconnectWithOldId)
    #expect(v.newConnectionId == "VNRUSeldSwMCIRQ=")
  }

  /// A new connection of the client still in its `$connect` when the call came is not a
  /// reconnect: the client had closed the old one, and the new id could not be posted to yet.
  @Test func aReconnectStillConnectingIsNotANewerConnection() throws {
    let v = try reconnecting(again: 49.5, established: 51)
    #expect(v.detail == .clientClosed)
    #expect(v.newConnectionId == nil)
  }

  /// A newer connection the client closed too before the call is not one it holds.
  @Test func aNewerConnectionClosedBeforeTheCallIsNotHeld() throws {
    let v = try reconnecting(secondClosed: 45)
    #expect(v.detail == .clientClosed)
    #expect(v.newConnectionId == nil)
  }

  /// A client that reconnects every 100 s (connection k requested at 100k s, closed 60 s later,
  /// but for the 7th, never closed): a call at 965 s to the 3rd finds the 7th, the one it still
  /// held. Not the 9th (closed at 960 s), nor any requested after the call. The newer connection
  /// is found by a search among the client's connections in the order they were requested.
  @Test func theNewerConnectionIsTheOneHeldAmongMany() throws {
    var s = Scenario()
    func id(_ k: Int) -> String { "C\(k < 10 ? "0" : "")\(k)mxc2VNjMCFIA=" }
    for k in 0..<20 {
      let n = (k < 10 ? "0" : "") + "\(k)"
      let t = Double(k) * 100
      s.connect(id(k), request: "Q\(n)nPH17NjMFftw=", lambda: "a57bdd96-bb4d-4a3c-bff0-2260000000\(n)", at: t, done: t + 0.3,
        ip: "203.0.113.10")
      if k != 7 {
        s.disconnect(id(k), request: "D\(n)oeHsUtjMFbRw=", at: t + 60, connectedAt: t, code: 1006, reason: "",
          ip: "203.0.113.10")
      }
    }
    s.nodeV3Gone(lambda: l2, at: 965, target: id(3))
    let v = try #require(s.analyze().verdicts.first)
    #expect(v.cause == .reconnectWithOldId)
    #expect(v.newConnectionId == id(7))
  }

  /// Java SDK v2 lines of a broadcast (§3.6 shape, as the simulator renders it): a line naming no
  /// connection next to one that does is still its own call when it quotes another request id.
  @Test func linesQuotingTwoSDKRequestIdsAreTwoCalls() {
    var s = Scenario()
    let exc = "software.amazon.awssdk.services.apigatewaymanagementapi.model.GoneException: null (Service: ApiGatewayManagementApi, Status Code: 410, Request ID: %@) (SDK Attempt Count: 1)"
    s.lambda_(0, "START RequestId: \(l2) Version: $LATEST")
    s.lambda_(0.29, "Failed to post announcement to R1kmxc2VNjMCFIA=: " + exc.replacingOccurrences(of: "%@", with: "8d3509af-e0f2-4b6e-b590-24fdc3fb00fd"))
    s.lambda_(0.36, "Post failed: " + exc.replacingOccurrences(of: "%@", with: "c24887f5-2f08-4d78-9ba2-e6ee83d2dadd"))
    s.lambda_(0.99, "END RequestId: \(l2)")
    let v = s.analyze().verdicts
    #expect(v.map(\.sdkRequestId) == ["8d3509af-e0f2-4b6e-b590-24fdc3fb00fd", "c24887f5-2f08-4d78-9ba2-e6ee83d2dadd"])
    #expect(v.map(\.detail) == [.neverSeen, .noTargetId])
  }

  /// Two invocations open at once in one file (streams merged: AWS never runs two in one stream).
  /// The Python runtime's uncaught-error record names no invocation (§3.5); it echoes the failure
  /// of the one that recorded a 410, not the one that started last.
  @Test func anEchoBetweenTwoOpenInvocationsJoinsTheOneThatFailed() throws {
    var s = Scenario()
    s.lambda_(0, "START RequestId: \(l2) Version: $LATEST")
    s.lambda_(0.076, "START RequestId: \(l3) Version: $LATEST")
    s.lambda_(0.082, "[ERROR]\t\(s.at(0.082))\t\(l2)\tCould not send welcome message to R1kmxc2VNjMCFIA=\rTraceback (most recent call last):\r  File \"/var/task/app.py\", line 41, in handler\r    apigw.post_to_connection(ConnectionId=connection_id, Data=payload)\rbotocore.errorfactory.GoneException: An error occurred (GoneException) when calling the PostToConnection operation: ")
    // The runtime's record as §3.5 gives it: `\r` line ends, U+00A0 indents.
    let nbsp = "\u{00A0}"
    s.lambda_(0.087, "[ERROR] GoneException: An error occurred (GoneException) when calling the PostToConnection operation: \rTraceback (most recent call last):\r\(nbsp)\(nbsp)File \"/var/task/app.py\", line 41, in handler\r\(nbsp)\(nbsp)\(nbsp)\(nbsp)apigw.post_to_connection(ConnectionId=connection_id, Data=payload)")
    s.lambda_(0.093, "END RequestId: \(l2)")
    s.lambda_(0.099, "END RequestId: \(l3)")
    let v = s.analyze().verdicts
    #expect(v.count == 1)
    let call = try #require(v.first)
    #expect(call.lambdaRequestId == l2)
    #expect(call.evidence.filter { $0.text.contains("GoneException") }.count == 2)
  }

  @Test func neverSeenAndNoTarget() throws {
    var s = Scenario()
    s.nodeV3Gone(lambda: l2, at: 10, target: "DfyBYdK2SQ0CGCA=")
    s.nodeV3Gone(lambda: l3, at: 20, target: nil)
    let details = s.analyze().verdicts.map(\.detail)
    #expect(details == [.neverSeen, .noTargetId])
  }

  /// The app line, the SDK's uncaught record and API Gateway's view of one failed call: one 410.
  /// The same stale id posted to from three invocations: three 410s.
  @Test func oneCallOneVerdictRepeatedCallsSeparate() throws {
    var s = Scenario()
    s.connect("R1kmxc2VNjMCFIA=", request: "R1knPH17NjMFftw=", lambda: l1, at: 0, done: 0.3)
    s.disconnect("R1kmxc2VNjMCFIA=", request: "R1koeHsUtjMFbRw=", at: 20, connectedAt: 0, code: 1001, reason: "")
    for (i, lambda) in [l2, l3, "d661f7cf-9208-46b9-85b0-213b04a91065"].enumerated() {
      s.nodeV3Gone(lambda: lambda, at: 60 + Double(i) * 10, target: "R1kmxc2VNjMCFIA=")
    }
    s.execution.append("\(s.at(60.05)) (QQGAoEcsoAMF09A=) AWS Integration Endpoint RequestId : \(l2)")
    s.execution.append("\(s.at(60.05)) (QQGAoEcsoAMF09A=) Endpoint response body before transformations: {\"errorType\":\"GoneException\",\"errorMessage\":\"UnknownError\",\"trace\":[]}")
    let a = s.analyze()
    #expect(a.verdicts.count == 3)
    #expect(a.verdicts.allSatisfy { $0.detail == .clientClosed })
    #expect(a.verdicts[0].evidence.filter { $0.text.contains("GoneException") }.count == 3)
  }

  /// Input order means nothing: shuffled lines give the same verdicts.
  @Test(arguments: [1, 2, 3] as [UInt64])
  func shuffledInputGivesIdenticalVerdicts(seed: UInt64) {
    var s = Scenario()
    s.connect("R1kmxc2VNjMCFIA=", request: "R1knPH17NjMFftw=", lambda: l1, at: 0, done: 0.4, status: 502)
    s.nodeV3Gone(lambda: l1, at: 0.2, target: nil)
    s.connect("VNRUSeldSwMCIRQ=", request: "VNRXVFJOywMF3-Q=", lambda: l3, at: 10, done: 10.3)
    s.message("VNRUSeldSwMCIRQ=", request: "VNRaaaaaaaMF3-Q=", at: 12)
    s.disconnect("VNRUSeldSwMCIRQ=", request: "VNRbbbbbbbMF3-Q=", at: 700, connectedAt: 10, code: 1001, reason: "Going away")
    s.nodeV3Gone(lambda: l2, at: 720, target: "VNRUSeldSwMCIRQ=")
    let expected = s.analyze().verdicts.map(VerdictKey.init)
    #expect(expected.count == 2)
    #expect(s.analyze(shuffled: seed).verdicts.map(VerdictKey.init) == expected)
  }
}

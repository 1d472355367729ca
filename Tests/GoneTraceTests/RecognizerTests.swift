import Foundation
import Testing
@testable import GoneTrace

func recognize(_ message: String, rules: RuleSet = .builtin, keepContext: Bool = false) -> [Fact] {
  let recognizer = Recognizer(rules: rules, keepsContextFacts: keepContext)
  var facts: [Fact] = []
  var bytes = Array(message.utf8)
  bytes.withUnsafeBytes { m in
    recognizer.recognize(RawEvent(timestamp: 0, hasOwnTime: true, group: nil, stream: nil, message: m,
      origin: Origin(input: 0, line: 1), eventId: nil), inputName: "test", into: &facts)
  }
  _ = bytes.removeLast()
  return facts
}

@Suite struct RecognizerTests {
  static let ruleSamples: [(String, String)] = BuiltinRules.file.rules.flatMap { rule in
    (rule.samples ?? []).map { (rule.name, $0) }
  }

  /// lnav-style: every sample line of every built-in rule is recognized by that rule.
  @Test(arguments: ruleSamples)
  func builtinRuleMatchesItsSamples(_ rule: String, _ sample: String) {
    let facts = recognize(sample, keepContext: true)
    #expect(facts.contains { $0.rule == rule }, "rule \(rule) did not recognize its sample; got \(facts.map(\.rule))")
  }

  struct Rendering: Sendable, CustomTestStringConvertible {
    var sdk: String
    var line: String
    var rule: String
    var operation: String? = nil
    var connectionId: String? = nil
    var sdkRequestId: String? = nil
    var lambdaRequestId: String? = nil
    var echo = false
    var testDescription: String { sdk }
  }

  /// One 410 per SDK rendering (shared/reference/log-formats.md §3).
  static let renderings: [Rendering] = [
    // §3.3 VERIFIED-REAL JSON in the Node runtime's Invoke Error framing (VERIFIED-SOURCE).
    Rendering(sdk: "node-v2 Invoke Error",
      line: "2021-09-07T05:12:50.514Z\ta57bdd96-bb4d-4a3c-bff0-226eed1171c1\tERROR\tInvoke Error \t{\"errorType\":\"GoneException\",\"errorMessage\":\"410\",\"code\":\"GoneException\",\"message\":\"410\",\"statusCode\":410,\"time\":\"2021-09-07T05:12:50.514Z\",\"requestId\":\"d184b96c-bd65-42f4-855b-ccd53c5049f4\",\"retryable\":false,\"retryDelay\":94.89568480709455,\"stack\":[\"GoneException: 410\",\"    at Object.extractError (/var/runtime/node_modules/aws-sdk/lib/protocol/json.js:52:27)\"]}",
      rule: "node-invoke-error-gone", sdkRequestId: "d184b96c-bd65-42f4-855b-ccd53c5049f4",
      lambdaRequestId: "a57bdd96-bb4d-4a3c-bff0-226eed1171c1", echo: true),
    // §3.3 VERIFIED-DOC knowledge center rendering.
    Rendering(sdk: "node-v2 knowledge center", line: "\"errorMessage\": \"GoneException: 410\"", rule: "node-v2-gone"),
    // §3.4 VERIFIED-REAL.
    Rendering(sdk: "node-v3", line: "GoneException: UnknownError at broadcastToMatch() ", rule: "node-v3-gone"),
    Rendering(sdk: "node-v3 app line",
      line: "        ERROR [Lambda] Error sending to connection XXX: GoneException: UnknownError", rule: "node-v3-gone"),
    // §3.5 VERIFIED-REAL (Chalice invocation error JSON).
    Rendering(sdk: "boto3 error JSON",
      line: "{\n  \"errorMessage\": \"An error occurred (GoneException) when calling the PostToConnection operation: \",\n  \"errorType\": \"GoneException\",\n  \"stackTrace\": []\n}",
      rule: "python-error-json-gone", operation: "PostToConnection", echo: true),
    // §3.5 INFERENCE from awslambdaric (VERIFIED-SOURCE): the uncaught record.
    Rendering(sdk: "boto3 uncaught",
      line: "[ERROR] GoneException: An error occurred (GoneException) when calling the PostToConnection operation: \rTraceback (most recent call last):\r\u{a0}\u{a0}File \"/var/task/app.py\", line 12, in handler",
      rule: "python-uncaught-gone", operation: "PostToConnection", echo: true),
    // §3.5 botocore template (VERIFIED-SOURCE) in a logger.exception line.
    Rendering(sdk: "boto3 logger",
      line: "[ERROR]\t2024-05-09T10:12:01.201Z\t1c8df7d3-aaaa-46da-9778-518e6eca8125\tbotocore.errorfactory.GoneException: An error occurred (GoneException) when calling the DeleteConnection operation: ",
      rule: "boto3-gone", operation: "DeleteConnection", lambdaRequestId: "1c8df7d3-aaaa-46da-9778-518e6eca8125"),
    // §3.6 VERIFIED-REAL.
    Rendering(sdk: "java-v1",
      line: "com.amazonaws.services.apigatewaymanagementapi.model.GoneException: null (Service: AmazonApiGatewayManagementApi; Status Code: 410; Error Code: GoneException; Request ID: xxx)",
      rule: "java-v1-gone", sdkRequestId: "xxx"),
    Rendering(sdk: "java-v1 unmarshall",
      line: "com.amazonaws.SdkClientException: Unable to unmarshall error response (null). Response Code: 410, Response Text: Gone",
      rule: "java-v1-unmarshall-410"),
    // §3.6 INFERENCE (strong).
    Rendering(sdk: "java-v2",
      line: "software.amazon.awssdk.services.apigatewaymanagementapi.model.GoneException: null (Service: ApiGatewayManagementApi, Status Code: 410, Request ID: 4f4b1d1e-1d7a-4b8e-9c1a-3c2f0b7f2a10) (SDK Attempt Count: 1)",
      rule: "java-v2-gone", sdkRequestId: "4f4b1d1e-1d7a-4b8e-9c1a-3c2f0b7f2a10"),
    // §3.7 INFERENCE on the VERIFIED-REAL 403 template.
    Rendering(sdk: "go-v2",
      line: "operation error ApiGatewayManagementApi: GetConnection, https response error StatusCode: 410, RequestID: 965ae9ea-c537-43d0-ae5c-3a458ccbc069, GoneException: ",
      rule: "go-v2-gone", operation: "GetConnection", sdkRequestId: "965ae9ea-c537-43d0-ae5c-3a458ccbc069"),
    // §3.8 VERIFIED-REAL.
    Rendering(sdk: "php",
      line: "[PRODUCTION]: 2021-08-06 12:41:19🚨ERROR: Error executing \"PostToConnection\" on \"https://xxxx.execute-api.ap-southeast-1.amazonaws.com/prod/@connections/DfyBYdK2SQ0CGCA%3D\"; AWS HTTP error: Client error: `POST https://xxxxx.execute-api.ap-southeast-1.amazonaws.com/prod/@connections/DfyBYdK2SQ0CGCA%3D` resulted in a `410 Gone` response Unable to parse error information from response - Error parsing JSON: Syntax error ",
      rule: "php-gone", operation: "PostToConnection", connectionId: "DfyBYdK2SQ0CGCA="),
    // AWS sample app (logs only on a 410).
    Rendering(sdk: "aws-sample",
      line: "2019-06-07T19:11:20.564Z\tc793869b-ee49-115b-a5b6-4fd21e8dedac\tINFO\tFound stale connection, deleting R1kmxc2VNjMCFIA=",
      rule: "aws-sample-stale-connection", operation: "PostToConnection", connectionId: "R1kmxc2VNjMCFIA=",
      lambdaRequestId: "c793869b-ee49-115b-a5b6-4fd21e8dedac"),
  ]

  @Test(arguments: renderings)
  func recognizesEverySDKRendering(_ r: Rendering) throws {
    let gone = recognize(r.line).filter { $0.kind == .gone }
    try #require(gone.count == 1, "\(r.sdk): \(gone.map(\.rule))")
    let f = gone[0]
    #expect(f.rule == r.rule)
    #expect(f.fields.isEcho == r.echo)
    if let op = r.operation { #expect(f.fields.operation == op) }
    #expect(f.fields.connectionId == r.connectionId)
    if let id = r.sdkRequestId { #expect(f.fields.sdkRequestId == id) }
    if let id = r.lambdaRequestId { #expect(f.fields.lambdaRequestId == id) }
  }

  /// Look-alikes that are not a 410 of ours.
  @Test(arguments: [
    // Azure Cosmos DB (github.com/Azure/azure-cosmos-dotnet-v2 issue 408, verbatim).
    "Microsoft.Azure.Documents.ServiceUnavailableException: Service is currently unavailable.\nActivityId: 676a8665-f218-42c3-9e1a-7a1f7c9cd9ae, documentdb-dotnet-sdk/1.19.1 Host/32-bit MicrosoftWindowsNT/6.2.9200.0 ---> Microsoft.Azure.Documents.GoneException: The requested resource is no longer available at the server.",
    // §3.4 VERIFIED-REAL malformed id.
    "        ERROR [Lambda] Error sending to connection test-connection-123: BadRequestException: Invalid connectionId",
    // §3.7 VERIFIED-REAL 403.
    "operation error ApiGatewayManagementApi: PostToConnection, https response error StatusCode: 403, RequestID: 965ae9ea-c537-43d0-ae5c-3a458ccbc069, ForbiddenException",
    // §3.5 VERIFIED-REAL access denied.
    "[ERROR] ClientError: An error occurred (AccessDeniedException) when calling the PostToConnection operation: User: arn:aws:sts::207922868512:assumed-role/x/y is not authorized to perform: execute-api:ManageConnections on resource: arn:aws:execute-api:us-east-1:********8512:uuhovneo02/Prod/POST/@connections/{connectionId}",
    // 429 rendered with the Go v2 template (§3.7 format, VERIFIED-REAL for 403).
    "operation error ApiGatewayManagementApi: PostToConnection, https response error StatusCode: 429, RequestID: 965ae9ea-c537-43d0-ae5c-3a458ccbc069, LimitExceededException: ",
    // A bare word.
    "2024-05-09T10:00:00.000Z\tc793869b-ee49-115b-a5b6-4fd21e8dedac\tWARN\tretrying after GoneException",
  ])
  func lookAlikesAreNotGone(_ line: String) {
    #expect(recognize(line).filter { $0.kind == .gone }.isEmpty)
  }

  @Test func accessLogRowIsARequestWithItsFields() throws {
    // §2.3 VERIFIED-REAL (elastic/integrations fixture).
    let row = "{\"requestId\":\"Iq9gjE_aIAMFZTg=\",\"ip\":\"1.128.0.0\",\"caller\":\"-\",\"user\":\"-\",\"requestTime\":\"26/Jul/2023:12:20:44 +0000\",\"eventType\":\"CONNECT\",\"routeKey\":\"$connect\",\"status\":\"500\",\"connectionId\":\"Iq8gj1UmIAMCKpA=\",\"apiId\":\"z1ctxygne5\",\"stage\":\"production\",\"domainName\":\"z1ctxygne5.execute-api.us-east-1.amazonaws.com\"}"
    let f = try #require(recognize(row).first { $0.kind == .request })
    #expect(f.fields.apigwRequestId == "Iq9gjE_aIAMFZTg=")
    #expect(f.fields.connectionId == "Iq8gj1UmIAMCKpA=")
    #expect(f.fields.eventType == "CONNECT")
    #expect(f.fields.status == 500)
    #expect(f.fields.sourceIp == "1.128.0.0")
    #expect(f.fields.requestTime == ms("2023-07-26T12:20:44Z"))
  }

  /// API Gateway cuts long payload lines with ` [TRUNCATED]` (§1.2, VERIFIED-REAL). A value the cut
  /// runs through is not read: a principal cut to `user|e9a0` would join strangers as one client.
  @Test func aValueCutByTruncationIsNotRead() throws {
    let line = "(63XbG7XV9IMF4MQ=) Endpoint request body after transformations: {\"requestContext\":{\"routeKey\":\"$connect\",\"eventType\":\"CONNECT\",\"requestTimeEpoch\":1715230137005,\"connectionId\":\"63XbeaSkW1MCgIw=\",\"authorizer\":{\"principalId\":\"user|e9a063ec3 [TRUNCATED]"
    let f = try #require(recognize(line).first { $0.kind == .request })
    #expect(f.fields.connectionId == "63XbeaSkW1MCgIw=")
    #expect(f.fields.principalId == nil)
    let number = "(63XbG7XV9IMF4MQ=) Endpoint request body after transformations: {\"requestContext\":{\"routeKey\":\"$connect\",\"eventType\":\"CONNECT\",\"connectionId\":\"63XbeaSkW1MCgIw=\",\"connectedAt\":17152 [TRUNCATED]"
    let g = try #require(recognize(number).first { $0.kind == .request })
    #expect(g.fields.connectedAt == nil)
  }

  @Test func printedEventInALambdaLineLinksTheInvocation() throws {
    // §2.4 VERIFIED-DOC $disconnect input as Node's console.log prints it (util.inspect, `\r` breaks).
    let line = "2024-02-09T18:23:28.941Z\t4ce9340a-b765-490f-ad8a-02ab3415e2bf\tINFO\t{\r  requestContext: {\r    routeKey: '$disconnect',\r    disconnectStatusCode: 1005,\r    eventType: 'DISCONNECT',\r    extendedRequestId: 'ABCD1234=',\r    requestTime: '09/Feb/2024:18:23:28 +0000',\r    messageDirection: 'IN',\r    disconnectReason: 'Client-side close frame status not set',\r    stage: 'prod',\r    connectedAt: 1707503007396,\r    requestTimeEpoch: 1707503008941,\r    identity: { sourceIp: '192.0.2.1' },\r    requestId: 'ABCD1234=',\r    connectionId: 'AAAA1234='\r  }\r}"
    let f = try #require(recognize(line).first { $0.kind == .request })
    #expect(f.fields.lambdaRequestId == "4ce9340a-b765-490f-ad8a-02ab3415e2bf")
    #expect(f.fields.apigwRequestId == "ABCD1234=")
    #expect(f.fields.connectionId == "AAAA1234=")
    #expect(f.fields.disconnectStatusCode == 1005)
    #expect(f.fields.disconnectReason == "Client-side close frame status not set")
    #expect(f.fields.connectedAt == 1_707_503_007_396)
    #expect(f.fields.requestTime == 1_707_503_008_941)
    #expect(f.fields.sourceIp == "192.0.2.1")
  }

  @Test func userRuleNamesTheTarget() throws {
    let file = RuleFile(version: 1, rules: [RuleDefinition(name: "my-app-send", fact: .target,
      prefilter: "sending to connection ", pattern: #"sending to connection (?<connectionId>[A-Za-z0-9_=-]+)"#)])
    let rules = try RuleSet(files: [("mine", file), ("built-in rules", BuiltinRules.file)])
    let f = recognize("2024-05-09T10:00:00.000Z\tc793869b-ee49-115b-a5b6-4fd21e8dedac\tINFO\tsending to connection R1kmxc2VNjMCFIA=", rules: rules)
    #expect(f.map(\.kind) == [.target])
    #expect(f.first?.fields.connectionId == "R1kmxc2VNjMCFIA=")
  }

  @Test func badUserRulesAreRejectedWithTheirName() {
    func load(_ rule: RuleDefinition) -> RuleError? {
      do { _ = try RuleSet(files: [("rules.json", RuleFile(version: 1, rules: [rule]))]); return nil } catch { return error }
    }
    let badGroup = load(RuleDefinition(name: "x", fact: .target, prefilter: "a", pattern: "(?<conn>a)"))
    #expect(badGroup?.description.contains("rule \"x\": group (?<conn>…) is not a field") == true)
    let badPattern = load(RuleDefinition(name: "y", fact: .target, prefilter: "a", pattern: "(a"))
    #expect(badPattern?.description.contains("rules.json: rule \"y\": invalid pattern /(a/") == true)
    let noPrefilter = load(RuleDefinition(name: "z", fact: .target, prefilter: "", pattern: "a"))
    #expect(noPrefilter?.description.contains("prefilter is empty") == true)
    let badSample = load(RuleDefinition(name: "s", fact: .target, prefilter: "to ", pattern: "to (?<connectionId>x+)",
      samples: ["sent to y"]))
    #expect(badSample?.description.contains("rule \"s\": pattern does not match its sample: sent to y") == true)
  }

  /// The key table (one `memchr` walk over the colons) finds exactly the key occurrences a plain
  /// search finds: every occurrence of a key that is a whole identifier, quoted by the same quote
  /// on both sides or by none, followed by blanks and a colon; in text order. Random texts made of
  /// the built-in rules' keys and the bytes around keys.
  @Test func keyTableFindsWhatAPlainSearchFinds() {
    let table = RuleSet.builtin.keyTable
    #expect(table.usable)
    let keys = table.keys
    func isIdentifier(_ b: UInt8) -> Bool { KeyValueExtractor.isIdentifier(b) }
    func plainSearch(_ t: [UInt8]) -> [(key: Int, at: Int)] {
      var found: [(key: Int, at: Int)] = []
      for start in t.indices where start == 0 || !isIdentifier(t[start - 1]) {
        for (id, key) in keys.enumerated() where t[start...].starts(with: key) {
          var i = start + key.count
          guard i == t.count || !isIdentifier(t[i]) else { continue }
          let before: UInt8? = start > 0 ? t[start - 1] : nil
          let quoted = before == UInt8(ascii: "\"") || before == UInt8(ascii: "'")
          if quoted {
            guard i < t.count, t[i] == before else { continue }
            i += 1
          }
          while i < t.count, t[i] == UInt8(ascii: " ") || t[i] == UInt8(ascii: "\t") { i += 1 }
          if i < t.count, t[i] == UInt8(ascii: ":") { found.append((id, start)) }
        }
      }
      return found
    }
    var rng = SystemRandomNumberGenerator()
    let pieces: [[UInt8]] = keys + keys.map { Array("\"".utf8) + $0 + Array("\": ".utf8) } + ["\"", "'", ":", " ", "\t", "{", ",", "x", "9", "_", "\"x\":\"v\""].map { Array($0.utf8) }
    var checked = 0
    for _ in 0..<3_000 {
      let text = (0..<Int.random(in: 1...30, using: &rng)).flatMap { _ in pieces.randomElement(using: &rng)! }
      var hits: [(key: Int, at: Int)] = []
      text.withUnsafeBytes { table.occurrences(in: $0, into: &hits) }
      let expected = plainSearch(text)
      #expect(hits.map(\.key) == expected.map(\.key) && hits.map(\.at) == expected.map(\.at),
        "\(String(decoding: text, as: UTF8.self))")
      checked += expected.count
    }
    #expect(checked > 1_000)  // the texts did hold keys
  }

  /// The rule loop (one anchor-byte walk per rare byte, else a two-byte search) finds exactly the
  /// literals a plain search finds. Random texts made of the built-in literals, pieces of them
  /// and filler, in any order.
  @Test func prefiltersFindWhatAPlainSearchFinds() {
    let rules = RuleSet.builtin
    let recognizer = Recognizer(rules: rules)
    var rng = SystemRandomNumberGenerator()
    let pieces: [[UInt8]] = rules.prefilters + rules.prefilters.map { Array($0.dropLast()) }
      + rules.prefilters.map { Array($0.dropFirst()) } + ["x", " ", "\t", "410", "G", "one"].map { Array($0.utf8) }
    var present = 0
    for _ in 0..<3_000 {
      let text = (0..<Int.random(in: 1...6, using: &rng)).flatMap { _ in pieces.randomElement(using: &rng)! }
      let found = text.withUnsafeBytes { recognizer.searchedLiterals(in: $0) }
      for (id, isFound) in found {
        let expected = text.contains(rules.prefilters[id])
        #expect(isFound == expected, "\(String(decoding: rules.prefilters[id], as: UTF8.self)) in \(String(decoding: text, as: UTF8.self))")
        if expected { present += 1 }
      }
    }
    #expect(present > 1_000)  // the texts did hold literals
  }

  /// Anchored rules are tried only on lines whose body starts with their literal's first byte
  /// (the recognizer's rule lists by byte). An execution line's anchored literal may also start
  /// the whole line, at its `(`, and a line whose body is empty is still tried by such a rule.
  @Test func anchoredRulesAreTriedWhereverTheirLiteralCanStart() throws {
    func rule(_ name: String, _ literal: String, _ scope: RuleDefinition.Scope, _ pattern: String) -> RuleDefinition {
      var r = RuleDefinition(name: name, fact: .target, prefilter: literal, pattern: pattern)
      r.anchor = .start
      r.scope = scope
      return r
    }
    let rules = try RuleSet(files: [("mine", RuleFile(version: 1, rules: [
      rule("body", "Sending to ", .execution, #"Sending to (?<connectionId>[A-Za-z0-9]+=)"#),
      rule("whole", "(", .execution, #"^\((?<connectionId>[A-Za-z0-9]+=)\) $"#),
      rule("other", "Sent to ", .other, #"Sent to (?<connectionId>[A-Za-z0-9]+=)"#),
    ]))])
    // User rules (the literals are this test's own); the `(<requestId>) ` prefix of execution
    // lines is log-formats.md §1.2's, the request id the §1.3 sample's.
    func found(_ line: String) -> [String] {
      recognize(line, rules: rules).map { "\($0.rule) \($0.fields.connectionId ?? "-")" }
    }
    #expect(found("(R1knPH17NjMFftw=) Sending to AAAA1234=") == ["body AAAA1234="])
    #expect(found("(AAAA1234=) ") == ["whole AAAA1234="])
    #expect(found("(AAAA1234=) x").isEmpty)
    #expect(found("Sent to BBBB1234=") == ["other BBBB1234="])
    #expect(found("xSent to BBBB1234=").isEmpty)
    #expect(found("(R1knPH17NjMFftw=) Sent to BBBB1234=").isEmpty)  // an execution line: not in its scope
  }

  /// A 410 line's named operation is found by the recognizer on the line's bytes, so that calls
  /// are assembled without reading lines back: it must be what a search of the line as shown
  /// finds (every built-in sample, and a line whose name lies past the evidence cut).
  @Test func namedOperationIsWhatTheShownLineNames() {
    var named = 0
    for (_, sample) in Self.ruleSamples {
      for fact in recognize(sample) where fact.kind == .gone {
        #expect(fact.fields.namedOperation == GoneCall.operationNamed(in: fact.text), "\(sample)")
        if fact.fields.namedOperation != nil { named += 1 }
      }
    }
    #expect(named > 5)
    // samples/lambda-chat-message.log's 410 line (Node.js runtime format), padded past the cut.
    let padding = String(repeating: "x", count: Recognizer(rules: .builtin).maxEvidenceBytes)
    let long = "2024-05-09T10:02:40.126Z\tfc553be8-0626-46ac-a2e3-8adc0c30810b\tERROR\tError sending to connection "
      + "65muq1QQBCMCkog=: GoneException: UnknownError \(padding) PostToConnection"
    let facts = recognize(long).filter { $0.kind == .gone }
    #expect(!facts.isEmpty)
    for fact in facts {
      #expect(fact.fields.namedOperation == nil)
      #expect(GoneCall.operationNamed(in: fact.text) == nil)
    }
  }

  /// The rule loop's flat lists give back the lists they were made of, empty ones included.
  @Test func flatListsHoldTheirLists() {
    let lists: [[Int]] = [[], [1, 2, 3], [], [4], (0..<1000).map { $0 * 7 }, []]
    let flat = FlatLists(lists)
    defer { flat.deallocate() }
    #expect(flat.count == lists.count)
    for (i, list) in lists.enumerated() { #expect(Array(flat[i]) == list) }
  }
  /// The two-byte search says a needle is there exactly when a plain search finds it: every
  /// haystack length to 80 (both sides of the sixteen-place blocks and of the overlapping last
  /// block), needles of 1 to 20 bytes planted at every place or cut by one byte, and every
  /// pair of places in the needle. Bytes from a three-letter alphabet, so partial matches abound.
  @Test func pairSearchFindsWhatAPlainSearchFinds() {
    var random = SeededGenerator(seed: 41)
    func text(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8(ascii: "a") + UInt8.random(in: 0...2, using: &random) } }
    var found = 0, checked = 0
    var wrong: [String] = []
    for k in [1, 2, 3, 5, 8, 13, 20] {
      let needle = text(k)
      // Every pair for short needles; for longer ones the ends, neighbours and one place twice.
      let pairs = k <= 3 ? (0..<k).flatMap { i in (0..<k).map { (i, $0) } }
        : [(0, k - 1), (k - 1, 0), (0, 1), (k / 2, k - 1), (1, 1)]
      for n in 0...80 {
        var haystacks = [text(n)]
        for at in stride(from: 0, through: n - k, by: 1) where n >= k {
          var h = text(n)
          h.replaceSubrange(at..<(at + k), with: needle)
          haystacks.append(h)
          if k > 1 { h[at + Int.random(in: 0..<k, using: &random)] = UInt8(ascii: "z") }  // one byte off
          haystacks.append(h)
        }
        for h in haystacks {
          let expected = k <= h.count && (0...(h.count - k)).contains { h[$0..<($0 + k)].elementsEqual(needle) }
          for pair in pairs {
            let answer = h.withUnsafeBytes { hb in needle.withUnsafeBytes { Bytes.contains(hb, $0, pair: pair) } }
            if answer != expected { wrong.append("needle \(needle) pair \(pair) in \(h)") }
            checked += 1
          }
          if expected { found += 1 }
        }
      }
    }
    let wrongAnswers = wrong.count
    #expect(wrongAnswers == 0, "the first: \(wrong.first ?? "")")
    #expect(found > 1_000 && checked > 50_000)
  }

  /// A quoted value ends at its first quote not escaped by a backslash, as a byte-by-byte walk
  /// finds it; escaped values are unescaped, a value with no closing quote (a cut line) is none.
  @Test func quotedValuesEndWhereAByteWalkEndsThem() {
    var random = SeededGenerator(seed: 7)
    let alphabet = Array("ab\\\"'".utf8)
    func walk(_ v: [UInt8], quote: UInt8) -> (end: Int, escaped: Bool)? {
      var j = 0, escaped = false
      while j < v.count, v[j] != quote {
        if v[j] == UInt8(ascii: "\\") {
          escaped = true
          j += 1
        }
        j += 1
      }
      return j < v.count ? (j, escaped) : nil
    }
    var values = 0
    for _ in 0..<4_000 {
      let quote = Bool.random(using: &random) ? UInt8(ascii: "\"") : UInt8(ascii: "'")
      let rest = (0..<Int.random(in: 0...12, using: &random)).map { _ in alphabet.randomElement(using: &random)! }
      let line = Array("{\"k\": ".utf8) + [quote] + rest
      var got: [UInt8]?
      line.withUnsafeBytes { t in
        KeyValueExtractor.forEachValue(of: Array("k".utf8), in: t) { value in
          got = Array(value)
          return true
        }
      }
      let expected: [UInt8]? = walk(rest, quote: quote).map { end, escaped in
        let raw = Array(rest[..<end])
        guard quote == UInt8(ascii: "\""), escaped else { return raw }
        var out: [UInt8] = []
        raw.withUnsafeBytes { Bytes.appendJSONUnescaped($0, to: &out) }
        return out
      }
      #expect(got == expected, "\(String(decoding: line, as: UTF8.self))")
      if expected != nil { values += 1 }
    }
    #expect(values > 1_000)
  }
}

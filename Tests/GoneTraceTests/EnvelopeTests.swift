import Foundation
import Testing
@testable import GoneTrace

/// One test per envelope; every fixture line is verbatim from shared/reference/log-formats.md,
/// section named beside it.
@Suite struct EnvelopeTests {
  // §1.4 (0), VERIFIED-REAL: CloudWatch console copy, local offset, blank lines between events.
  static let consoleCopy = """
    2020-07-02T11:34:31.881-04:00 (PDS1PEC4oAMFpyA=) Execution failed due to configuration error: Invalid permissions on Lambda function

    2020-07-02T11:34:31.882-04:00 (PDS1PEC4oAMFpyA=) Execution failed due to configuration error: Authorizer error

    2020-07-02T11:34:31.882-04:00 (PDS1PEC4oAMFpyA=) Gateway response type: AUTHORIZER_CONFIGURATION_ERROR with status code: 500

    """

  @Test func rawLinesWithOffsetTimes() throws {
    let (sink, summary) = try decode(text: Self.consoleCopy)
    #expect(summary.format == .lines)
    #expect(sink.events.count == 3)
    #expect(sink.events[0].timestamp == ms("2020-07-02T15:34:31.881Z"))
    #expect(sink.events[2].message == "(PDS1PEC4oAMFpyA=) Gateway response type: AUTHORIZER_CONFIGURATION_ERROR with status code: 500")
    #expect(sink.events.map(\.origin.line) == [1, 3, 5])
    #expect(sink.diagnostics.isEmpty)
  }

  // §1.3, VERIFIED-REAL (rotemtam/serverless-aws-logs-parser): Z times, no fraction variety.
  @Test func rawLinesWithZTimes() throws {
    let text = """
      2017-06-05T17:52:57.673Z (cf101403-4a17-11e7-935f-35dfc4618b7d) Starting authorizer: elkw5b for request: cf101403-4a17-11e7-935f-35dfc4618b7d
      2017-06-05T17:52:57.701Z (cf101403-4a17-11e7-935f-35dfc4618b7d) Successfully completed authorizer execution
      2016-10-01T10:55:45.611Z Starting execution for request: 9ac0eacd-87c5-11e6-b30c-19c3d9849330
      """
    let (sink, summary) = try decode(text: text)
    #expect(summary.format == .lines)
    #expect(sink.events.map(\.timestamp) == [ms("2017-06-05T17:52:57.673Z"), ms("2017-06-05T17:52:57.701Z"), ms("2016-10-01T10:55:45.611Z")])
    #expect(sink.events[2].message == "Starting execution for request: 9ac0eacd-87c5-11e6-b30c-19c3d9849330")
  }

  // §3.10, VERIFIED-DOC: a Lambda log pasted without CloudWatch times; START/END have none of their own.
  @Test func rawLinesWithoutLeadingTime() throws {
    let text = """
      START RequestId: c793869b-ee49-115b-a5b6-4fd21e8dedac Version: $LATEST
      2019-06-07T19:11:20.564Z\tc793869b-ee49-115b-a5b6-4fd21e8dedac\tWARN\tEvent not processed.
      END RequestId: c793869b-ee49-115b-a5b6-4fd21e8dedac
      """
    let (sink, summary) = try decode(text: text)
    #expect(summary.format == .lines)
    #expect(sink.events.count == 3)
    #expect(sink.events[1].timestamp == ms("2019-06-07T19:11:20.564Z"))
    #expect(sink.events[1].message.hasPrefix("2019-06-07T19:11:20.564Z\tc793869b"))
    #expect(sink.events[2].timestamp == sink.events[1].timestamp)  // inherits the time before it
    #expect(sink.diagnostics.contains { $0.message.contains("carry no time") && $0.line == 1 })
  }

  // §4.1, VERIFIED-DOC (aws-cli filter-log-events.rst), then a second page appended with `>>`.
  static let filterPage1 = """
    {
        "events": [
            {
                "logStreamName": "teststream",
                "timestamp": 1712567843827,
                "message": "Test MESSAGE1",
                "ingestionTime": 1712567844822,
                "eventId": "00091539120382912324200901570000096855579456010247667712"
            },
            {
                "logStreamName": "2024/05/09/[$LATEST]abc1024",
                "timestamp": 1712568068991,
                "message": "Test MESSAGE2",
                "ingestionTime": 1712568070017,
                "eventId": "00001544141707904000000130886135001961903807164184002560"
            }
        ],
        "searchedLogStreams": [],
        "NextToken": "eyJuZXh0VG9rZW4iOiBudWxsfQ=="
    }

    """
  // §3.10 VERIFIED-DOC get-log-events messages, with their exact escapes (`\\t`, `\\r`, trailing `\\n`).
  static let filterPage2 = """
    {
        "events": [
            {
                "logStreamName": "2024/05/09/[$LATEST]abc1024",
                "timestamp": 1712568069000,
                "message": "2019-06-05T19:30:03.173Z\\t4ce9340a-b765-490f-ad8a-02ab3415e2bf\\tINFO\\tEVENT\\r{\\r  \\"key\\": \\"value\\"\\r}\\n",
                "ingestionTime": 1712568070017,
                "eventId": "00001544141707904000000130886135001961903807164184002561"
            }
        ]
    }

    """

  @Test func filterLogEventsSeveralPagesInOneStream() throws {
    let (sink, summary) = try decode(text: Self.filterPage1 + Self.filterPage2, name: "events.json")
    #expect(summary.format == .cliJSON)
    #expect(sink.events.map(\.message) == [
      "Test MESSAGE1", "Test MESSAGE2",
      "2019-06-05T19:30:03.173Z\t4ce9340a-b765-490f-ad8a-02ab3415e2bf\tINFO\tEVENT\r{\r  \"key\": \"value\"\r}",
    ])
    #expect(sink.events.map(\.stream) == ["teststream", "2024/05/09/[$LATEST]abc1024", "2024/05/09/[$LATEST]abc1024"])
    #expect(sink.events.map(\.timestamp) == [1_712_567_843_827, 1_712_568_068_991, 1_712_568_069_000])
    #expect(sink.events.map(\.origin.line) == [3, 10, 23])  // line of each event's `{`
    #expect(sink.diagnostics.isEmpty)
  }

  // §4.1, VERIFIED-DOC (aws-cli get-log-events.rst).
  @Test func getLogEvents() throws {
    let text = """
      {
          "nextForwardToken": "f/31961209122447488583055879464742346735121166569214640130",
          "events": [
              {
                  "ingestionTime": 1433190494190,
                  "timestamp": 1433190184356,
                  "message": "Example Event 1"
              }
          ],
          "nextBackwardToken": "b/31961209122358285602261756944988674324553373268216709120"
      }
      """
    let (sink, summary) = try decode(text: text, name: "page.json")
    #expect(summary.format == .cliJSON)
    #expect(sink.events.map(\.message) == ["Example Event 1"])
    #expect(sink.events[0].timestamp == 1_433_190_184_356)
  }

  // §4.2, VERIFIED-SOURCE (aws-cli test_tail.py expected outputs), with and without colour.
  @Test func awsLogsTailDetailedShortAndColour() throws {
    let detailed = "2018-01-01T00:29:43.079060+00:00 stream_name my message\n2018-01-01T00:29:43+00:00 stream_name my message\n"
    let (d, ds) = try decode(text: detailed)
    #expect(ds.format == .tail)
    #expect(d.events.map(\.stream) == ["stream_name", "stream_name"])
    #expect(d.events.map(\.message) == ["my message", "my message"])
    #expect(d.events.map(\.timestamp) == [1_514_766_583_079, 1_514_766_583_000])

    let colour = "\u{1b}[32m2018-01-01T00:29:43.079060+00:00\u{1b}[0m \u{1b}[36mstream_name\u{1b}[0m my message\n"
    let (c, cs) = try decode(text: colour)
    #expect(cs.format == .tail)
    #expect(c.events.first?.stream == "stream_name")
    #expect(c.events.first?.message == "my message")

    let short = "2018-01-01T00:29:43 my message\n"
    let (s, ss) = try decode(text: short)
    #expect(ss.format == .tail)
    #expect(s.events.first?.message == "my message")
    #expect(s.events.first?.stream == nil)

    // `--format json` pretty-prints a JSON message on the lines after it.
    let json = "2018-01-01T00:29:43.079060+00:00 stream_name \n{\n    \"foo\": {\n        \"bar\": \"baz\"\n    }\n}\n"
    let (j, _) = try decode(text: json)
    #expect(j.events.count == 1)
    #expect(j.events.first?.message == "{\n    \"foo\": {\n        \"bar\": \"baz\"\n    }\n}")
  }

  /// Five events of §4.4's export and §4.2's `tail --format json` output: a blank continuation
  /// line, a message over several lines, and a last line without a newline.
  static let exportedEvents = Array("""
      2019-06-07T19:11:20.500Z START RequestId: c793869b-ee49-115b-a5b6-4fd21e8dedac Version: $LATEST

      2019-06-07T19:11:20.562Z 2019-06-07T19:11:20.562Z\tc793869b-ee49-115b-a5b6-4fd21e8dedac\tINFO\tENVIRONMENT VARIABLES
      {
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
      }
      2019-06-07T19:11:20.564Z 2019-06-07T19:11:20.564Z\tc793869b-ee49-115b-a5b6-4fd21e8dedac\tWARN\tEvent not processed.
      2019-06-07T19:11:20.565Z END RequestId: c793869b-ee49-115b-a5b6-4fd21e8dedac
      2019-06-07T19:11:20.566Z last line without a newline
      """.utf8)

  /// A raw-lines event is handed on as a view into the chunk while it is one line, and copied
  /// once a continuation line joins it or the chunk ends: cut anywhere, the same events come out.
  /// (Lines of §4.4's export and §4.2's `tail --format json` output.)
  @Test func continuationLinesGiveTheSameEventsWhereverTheChunksEnd() {
    let text = Self.exportedEvents
    func events(chunkSize: Int) -> [LogEvent] {
      var decoder = LineEventDecoder(input: 0, inputName: "x",
        layout: LineLayout(continuationLines: true, streamAfterTime: false), stream: nil, maxLineBytes: 1 << 20)
      var sink = CollectingSink()
      var start = 0
      while start < text.count {
        // Each chunk in its own buffer, overwritten once fed: a view kept past its chunk shows.
        var chunk = Array(text[start..<min(start + chunkSize, text.count)])
        chunk.withUnsafeBytes { decoder.feed($0, into: &sink) }
        for i in chunk.indices { chunk[i] = UInt8(ascii: "#") }
        start += chunkSize
      }
      decoder.finish(into: &sink)
      #expect(sink.diagnostics.isEmpty)
      return sink.events
    }
    let whole = events(chunkSize: text.count)
    #expect(whole.count == 5)
    #expect(whole[1].message.hasSuffix("ENVIRONMENT VARIABLES\n{\n  \"AWS_LAMBDA_FUNCTION_VERSION\": \"$LATEST\",\n}"))
    for size in [1, 2, 3, 7, 25, 64, 100, 333] {
      #expect(events(chunkSize: size) == whole, "chunks of \(size) bytes")
    }
  }

  /// An event read from one line of a regular file says where its message starts in the file,
  /// and the file's bytes there are the message (evidence is read back from them, `SourceFile`);
  /// an event of several lines, or a line carried across two chunks, says nothing. Cut anywhere.
  /// (Lines of §4.4's export and §4.2's `tail --format json` output, then §1.2's execution log.)
  @Test func fileOffsetsPointAtTheMessagesOwnBytes() {
    struct OffsetSink: EventSink {
      var events: [(message: [UInt8], offset: Int64?)] = []
      mutating func accept(_ event: RawEvent) { events.append((Array(event.message), event.fileOffset)) }
      mutating func report(_ diagnostic: Diagnostic) {}
    }
    let exported = Self.exportedEvents
    // log-formats.md §1.2 (VERIFIED-REAL), verbatim; CRLF line ends on the second and third,
    // and a last line without a time of its own (an event of its own without continuations).
    let raw = Array(("2017-06-05T17:52:57.738Z (cf101403-4a17-11e7-935f-35dfc4618b7d) Endpoint response headers: {x-amzn-Remapped-Content-Length=0, x-amzn-RequestId=cf154484-4a17-11e7-aa36-15f3676da0c2, Connection=keep-alive, Content-Length=183, Date=Mon, 05 Jun 2017 17:52:57 GMT, X-Amzn-Trace-Id=root=1-59359a79-3f2c1fd185751bfd75aaa3b7;sampled=0, Content-Type=application/json}\n"
      + "2017-06-05T17:52:57.738Z (cf101403-4a17-11e7-935f-35dfc4618b7d) Successfully completed execution\r\n"
      + "2017-06-05T17:52:57.738Z (cf101403-4a17-11e7-935f-35dfc4618b7d) Method completed with status: 200\r\n"
      + "Method request body before transformations:\n").utf8)
    let base: Int64 = 4096  // as a piece of a file that starts past its first byte
    // Not placed: the two events of several lines, and the last line, which has no newline and
    // is handed out from the assembler's carry buffer at the end.
    for (text, continuation, unplaced) in [(exported, true, 3), (raw, false, 0)] {
      for size in [text.count, 1, 7, 64, 100] {
        var decoder = LineEventDecoder(input: 0, inputName: "x",
          layout: LineLayout(continuationLines: continuation, streamAfterTime: false), stream: nil,
          maxLineBytes: 1 << 20, fileBase: base)
        var sink = OffsetSink()
        var start = 0
        while start < text.count {
          let end = min(start + size, text.count)
          Array(text[start..<end]).withUnsafeBytes { decoder.feed($0, into: &sink) }
          start = end
        }
        decoder.finish(into: &sink)
        #expect(sink.events.count == (continuation ? 5 : 4))
        var placed = 0
        for e in sink.events {
          guard let offset = e.offset else { continue }
          let at = Int(offset - base)
          #expect(Array(text[at..<at + e.message.count]) == e.message, "chunks of \(size): \(String(decoding: e.message, as: UTF8.self))")
          placed += 1
        }
        if size == text.count {
          #expect(placed == sink.events.count - unplaced, "every one-line event of one chunk is placed")
        }
      }
    }
  }

  // §4.4: S3 export tree `<prefix>/<taskId>/<logStream>/000000.gz`, chunks unsorted, a blank
  // continuation line after a Lambda message ending in `\n`, and the aws-logs-write-test object.
  @Test func s3ExportTreeGzipped() throws {
    let root = Fixture.directory()
    let task = root.appendingPathComponent("exportedlogs/23db5787-2889-4601-873a-99e4fa09456d")
    let stream = task.appendingPathComponent("R1kmxc2VNjMCFIAstream")
    Fixture.write(bytes: Fixture.gzip("""
      2019-06-07T19:11:20.564Z 2019-06-07T19:11:20.564Z\tc793869b-ee49-115b-a5b6-4fd21e8dedac\tWARN\tEvent not processed.

      2019-06-07T19:11:20.565Z END RequestId: c793869b-ee49-115b-a5b6-4fd21e8dedac

      """), to: stream.appendingPathComponent("000001.gz"))
    Fixture.write(bytes: Fixture.gzip("""
      2019-06-07T19:11:20.500Z START RequestId: c793869b-ee49-115b-a5b6-4fd21e8dedac Version: $LATEST

      2019-06-07T19:11:20.562Z 2019-06-07T19:11:20.562Z\tc793869b-ee49-115b-a5b6-4fd21e8dedac\tINFO\tENVIRONMENT VARIABLES
      {
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
      }

      """), to: stream.appendingPathComponent("000000.gz"))
    Fixture.write("Permission Check Successful", to: root.appendingPathComponent("exportedlogs/aws-logs-write-test"))

    var diagnostics: [Diagnostic] = []
    let inputs = try InputResolver.resolve([root.path], diagnostics: &diagnostics)
    #expect(inputs.map { URL(fileURLWithPath: $0.path!).lastPathComponent } == ["000000.gz", "000001.gz"])
    #expect(inputs.allSatisfy { $0.streamFromPath == "R1kmxc2VNjMCFIAstream" })
    var sink = CollectingSink()
    var summaries: [InputSummary] = []
    for (i, input) in inputs.enumerated() { summaries.append(try EnvelopeReader.read(input, index: i, into: &sink)) }
    #expect(summaries.map(\.format) == [.s3Export, .s3Export])
    #expect(summaries.allSatisfy { $0.compressed })
    #expect(sink.events.count == 4)
    #expect(sink.events[1].message.hasSuffix("ENVIRONMENT VARIABLES\n{\n  \"AWS_LAMBDA_FUNCTION_VERSION\": \"$LATEST\",\n}"))
    #expect(sink.events.allSatisfy { $0.stream == "R1kmxc2VNjMCFIAstream" })
    #expect(sink.diagnostics.isEmpty)
  }

  // §1.2 / §4.3 VERIFIED: a DATA_MESSAGE payload (execution-log group), gzipped, several concatenated
  // as Firehose writes them, a CONTROL_MESSAGE among them, and the `awslogs` wrapper a Lambda receives.
  static func payload(_ id: String, _ message: String, type: String = "DATA_MESSAGE") -> String {
    """
    {"messageType":"\(type)","owner":"123456789012","logGroup":"API-Gateway-Execution-Logs_uwe3g5jm54/Prod","logStream":"072b030ba126b2f4b2374f342be9ed44","subscriptionFilters":["Destination"],"logEvents":[{"id":"\(id)","timestamp":1551194970161,"message":"\(message)"}]}
    """
  }

  @Test func subscriptionPayloadsConcatenatedAndWrapped() throws {
    let a = Self.payload("34592803782802773986954514236420494137821591878455918592",
      "(4f3e3b0f-39db-11e9-9c2e-5bd7c2de5998) Extended Request Id: Vts2FFmArPEFh8g=")
    let control = Self.payload("0", "CWL CONTROL MESSAGE: Checking health of destination Firehose.", type: "CONTROL_MESSAGE")
    let b = Self.payload("34592803782825074732153044859562029856094240239961899011",
      "(4f3e3b0f-39db-11e9-9c2e-5bd7c2de5998) Method completed with status: 429")
    let dir = Fixture.directory()
    let firehose = Fixture.write(bytes: Fixture.gzip(a) + Fixture.gzip(control) + Fixture.gzip(b),
      to: dir.appendingPathComponent("firehose-object"))
    let (sink, summary) = try decode(firehose)
    #expect(summary.format == .subscription)
    #expect(sink.events.map(\.message) == [
      "(4f3e3b0f-39db-11e9-9c2e-5bd7c2de5998) Extended Request Id: Vts2FFmArPEFh8g=",
      "(4f3e3b0f-39db-11e9-9c2e-5bd7c2de5998) Method completed with status: 429",
    ])
    #expect(sink.events.allSatisfy { $0.group == "API-Gateway-Execution-Logs_uwe3g5jm54/Prod" })
    #expect(sink.events.map(\.origin.record) == [1, 2])

    let data = Data(Fixture.gzip(a)).base64EncodedString()
    let wrapped = Fixture.write("{ \"awslogs\": {\"data\": \"\(data)\"} }\n", to: dir.appendingPathComponent("lambda-event.json"))
    let (w, ws) = try decode(wrapped)
    #expect(ws.format == .subscription)
    #expect(w.events.map(\.message) == ["(4f3e3b0f-39db-11e9-9c2e-5bd7c2de5998) Extended Request Id: Vts2FFmArPEFh8g="])
  }

  // §4.5 VERIFIED-DOC (get-query-results.rst); moto writes @timestamp as epoch ms instead.
  @Test func logsInsightsJSON() throws {
    let text = """
      {
          "results": [
              [
                  {"field": "@timestamp", "value": "2024-05-19 06:10:35.743"},
                  {"field": "@message", "value": "Test BENCHMARK 3"},
                  {"field": "@logStream", "value": "TestStream"},
                  {"field": "@ptr", "value": "ClQKGAoUODc3MzYyMTE0MTkzOnRlc3ROSFQQARI0GhgCBmJoHCAAAAAAg5VGeQAGZJl2MAAAAQIgASjnpOT7+DEw3+Tk+/gxOAJAXkiwBlDfAhgAIAEQARgB"}
              ],
              [
                  {"field": "@timestamp", "value": "1716099035744"},
                  {"field": "@message", "value": "REPORT RequestId: 76269889-7d50-4d6d-a3f1-9b4f5322f47c\\tDuration: 14.97 ms\\tBilled Duration: 15 ms\\tMemory Size: 128 MB\\tMax Memory Used: 67 MB\\t\\n"}
              ]
          ],
          "statistics": {"recordsMatched": 3.0, "recordsScanned": 3.0, "bytesScanned": 141.0},
          "status": "Complete"
      }
      """
    let (sink, summary) = try decode(text: text, name: "results.json")
    #expect(summary.format == .insightsJSON)
    #expect(sink.events.map(\.timestamp) == [1_716_099_035_743, 1_716_099_035_744])
    #expect(sink.events[0].stream == "TestStream")
    #expect(sink.events[1].message.hasSuffix("Max Memory Used: 67 MB"))
  }

  // §4.5: console CSV export (`""` escapes, `YYYY-MM-DD HH:MM:SS.mmm`); the KC copy lost the newline
  // after the header, restored here.
  @Test func logsInsightsCSV() throws {
    let text = """
      @logStream,@timestamp,@message
      kube-apiserver-audit-71976ca11bea5d3083393f7d32dab75b,2021-08-11 09:29:13.095,"{""requestURI"":""/api/v1/namespaces/kube-system/endpoints?limit=500"",""verb"":""list""}"
      s2,2021-08-11 09:29:14.000,"two
      lines"

      """
    let (sink, summary) = try decode(text: text, name: "export.csv")
    #expect(summary.format == .insightsCSV)
    #expect(sink.events.map(\.message) == [
      "{\"requestURI\":\"/api/v1/namespaces/kube-system/endpoints?limit=500\",\"verb\":\"list\"}", "two\nlines",
    ])
    #expect(sink.events.map(\.stream) == ["kube-apiserver-audit-71976ca11bea5d3083393f7d32dab75b", "s2"])
    #expect(sink.events[0].timestamp == ms("2021-08-11T09:29:13.095Z"))
  }

  // §3.3 / §3.10: a Lambda message keeps its internal `\r` breaks and stays one event.
  @Test func lambdaCarriageReturnsStayInOneEvent() throws {
    let text = "2024-05-09T10:00:00.000Z 2024-05-09T10:00:00.000Z\t4ce9340a-b765-490f-ad8a-02ab3415e2bf\tINFO\tEVENT\r{\r  \"key\": \"value\"\r}\n"
    let (sink, _) = try decode(text: text)
    #expect(sink.events.count == 1)
    #expect(sink.events[0].message.contains("EVENT\r{\r  \"key\": \"value\"\r}"))
  }

  @Test func gzipDetectedByMagicNotName() throws {
    let dir = Fixture.directory()
    let url = Fixture.write(bytes: Fixture.gzip(Self.consoleCopy), to: dir.appendingPathComponent("execution.txt"))
    let (sink, summary) = try decode(url)
    #expect(summary.compressed)
    #expect(sink.events.count == 3)
  }

  @Test func truncatedGzipKeepsTheEventsBeforeTheCut() throws {
    var many = ""
    for i in 0..<2000 {
      many += "2024-05-09T10:00:\(String(format: "%02d", i % 60)).000Z (R1knPH17NjMFftw=) line \(i) \(UUID().uuidString)\n"
    }
    let full = Fixture.gzip(many)
    let dir = Fixture.directory()
    let url = Fixture.write(bytes: Array(full.prefix(full.count / 2)), to: dir.appendingPathComponent("cut.gz"))
    let (sink, summary) = try decode(url)
    #expect(summary.format == .lines)
    #expect(sink.events.count > 100 && sink.events.count < 2000)
    #expect(sink.events.first?.message.hasPrefix("(R1knPH17NjMFftw=) line 0 ") == true)
    #expect(sink.diagnostics.contains { $0.input == url.path && $0.message.contains("truncated") })
  }

  @Test func unknownEnvelopeIsAnErrorNamingTheInput() throws {
    let dir = Fixture.directory()
    let url = Fixture.write("Dear diary,\nnothing about CloudWatch here.\n", to: dir.appendingPathComponent("notes.txt"))
    #expect(throws: InputError.unknownEnvelope(input: url.path)) { try decode(url) }
    let binary = Fixture.write(bytes: [0x7F, 0x45, 0x4C, 0x46, 0, 0, 1, 2], to: dir.appendingPathComponent("a.out"))
    #expect(throws: InputError.unknownEnvelope(input: binary.path)) { try decode(binary) }
  }
}

internal import CZlib

/// Subscription-filter payloads: `{"messageType":"DATA_MESSAGE","logGroup":…,"logStream":…,
/// "logEvents":[{"id","timestamp","message"}]}`, one per file, concatenated without separators
/// (Firehose to S3), or wrapped in the `{"awslogs":{"data":"<base64 gzip>"}}` event a subscribed
/// Lambda receives. `CONTROL_MESSAGE` payloads are CloudWatch's reachability probes: skipped.
struct SubscriptionDecoder: EnvelopeDecoder {
  let input: Int
  let inputName: String
  private var splitter = JSONRecordSplitter(depthInObject: 1, depthInArray: 1)
  private var message: [UInt8] = []
  private var record = 0
  /// A payload inflates to at most ~1 MB in practice (CloudWatch batches); this bound only stops a bomb.
  static let maxInflatedPayload = 256 * 1024 * 1024

  init(input: Int, inputName: String) {
    self.input = input
    self.inputName = inputName
  }

  mutating func feed<S: EventSink>(_ chunk: UnsafeRawBufferPointer, into sink: inout S) {
    var s = splitter  // a local: the closure below mutates self
    s.records(in: chunk, inputName: inputName, what: "subscription payload", into: &sink) { bytes, line, sink in
      decodePayload(bytes, line: line, &sink)
    }
    splitter = s
  }

  mutating func finish<S: EventSink>(into sink: inout S) {
    JSONEnvelopeChecks.finish(splitter, inputName: inputName, what: "payload", into: &sink)
  }

  private mutating func decodePayload<S: EventSink>(_ payload: UnsafeRawBufferPointer, line: Int, _ sink: inout S) {
    var group: String?
    var stream: String?
    var messageType: String?
    var logEvents: UnsafeRawBufferPointer?
    var wrapped: UnsafeRawBufferPointer?
    let wellFormed = JSONReader.forEachMember(payload) { key, value in
      if JSONReader.equals(key, "logGroup") { group = JSONReader.string(value) }
      else if JSONReader.equals(key, "logStream") { stream = JSONReader.string(value) }
      else if JSONReader.equals(key, "messageType") { messageType = JSONReader.string(value) }
      else if JSONReader.equals(key, "logEvents"), value.kind == .array { logEvents = value.bytes }
      else if JSONReader.equals(key, "awslogs"), value.kind == .object {
        JSONReader.forEachMember(value.bytes) { k, v in
          if JSONReader.equals(k, "data"), v.kind == .string { wrapped = v.bytes }
          return true
        }
      }
      return true
    }
    guard wellFormed else {
      sink.report(Diagnostic(input: inputName, line: line, record: record + 1, severity: .error,
        message: "malformed subscription payload; skipped"))
      return
    }
    if let wrapped {
      decodeWrapped(wrapped, line: line, &sink)
      return
    }
    if messageType == "CONTROL_MESSAGE" { return }
    guard let logEvents else {
      sink.report(Diagnostic(input: inputName, line: line, record: record + 1, severity: .error,
        message: "payload without logEvents (messageType \(messageType ?? "missing")); skipped"))
      return
    }
    JSONReader.forEachElement(logEvents) { element in
      record += 1
      var timestamp: EpochMillis?
      var hasMessage = false
      var eventId: UnsafeRawBufferPointer?
      message.removeAll(keepingCapacity: true)
      JSONReader.forEachMember(element.bytes) { key, value in
        if JSONReader.equals(key, "message"), value.kind == .string {
          Bytes.appendJSONUnescaped(value.bytes, to: &message)
          hasMessage = true
        } else if JSONReader.equals(key, "timestamp") {
          timestamp = Timestamp.parseEpoch(value.bytes)
        } else if JSONReader.equals(key, "id"), value.kind == .string {
          eventId = value.bytes
        }
        return true
      }
      guard let timestamp, hasMessage else {
        sink.report(Diagnostic(input: inputName, record: record, severity: .error,
          message: "log event without timestamp or message; skipped"))
        return true
      }
      message.withUnsafeBytes { bytes in
        sink.accept(RawEvent(timestamp: timestamp, hasOwnTime: true, group: group, stream: stream,
          message: Bytes.trimmedEnd(bytes), origin: Origin(input: input, record: record), eventId: eventId))
      }
      return true
    }
  }

  /// `{"awslogs":{"data":"…"}}`: base64 of a gzipped payload.
  private mutating func decodeWrapped<S: EventSink>(_ data: UnsafeRawBufferPointer, line: Int, _ sink: inout S) {
    guard let compressed = Base64.decode(data) else {
      sink.report(Diagnostic(input: inputName, line: line, severity: .error,
        message: "awslogs.data is not valid base64; skipped"))
      return
    }
    let (inflated, problem) = Inflate.whole(compressed, limit: SubscriptionDecoder.maxInflatedPayload)
    if let problem {
      sink.report(Diagnostic(input: inputName, line: line, severity: .error, message: "awslogs.data: \(problem)"))
    }
    var inner = SubscriptionDecoder(input: input, inputName: inputName)
    inner.record = record
    inflated.withUnsafeBytes { inner.feed($0, into: &sink) }
    inner.finish(into: &sink)
    record = inner.record
  }
}

enum Base64 {
  private static let table: [UInt8] = {
    var t = [UInt8](repeating: 0xFF, count: 256)
    for (i, c) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
      t[Int(c)] = UInt8(i)
    }
    t[Int(UInt8(ascii: "-"))] = 62  // URL-safe alphabet too
    t[Int(UInt8(ascii: "_"))] = 63
    return t
  }()

  static func decode(_ text: UnsafeRawBufferPointer) -> [UInt8]? {
    var out: [UInt8] = []
    out.reserveCapacity(text.count * 3 / 4)
    var acc: UInt32 = 0
    var bits = 0
    for c in text {
      if c == UInt8(ascii: "=") { break }
      if c == Bytes.backslash || c == Bytes.newline || c == Bytes.carriageReturn { continue }  // `\/`, wrapped lines
      let v = table[Int(c)]
      guard v != 0xFF else { return nil }
      acc = acc << 6 | UInt32(v)
      bits += 6
      if bits >= 8 {
        bits -= 8
        out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
      }
    }
    return out
  }
}

/// Inflates a whole gzip buffer in memory (a subscription payload), stopping at `limit` bytes.
enum Inflate {
  static func whole(_ compressed: [UInt8], limit: Int) -> ([UInt8], String?) {
    var stream = z_stream()
    guard czlib_inflate_init_gzip(&stream) == Z_OK else { return ([], "zlib initialisation failed") }
    defer { inflateEnd(&stream) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 64 * 1024)
    var problem: String?
    compressed.withUnsafeBytes { input in
      stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
      stream.avail_in = uInt(input.count)
      loop: while true {
        let rc: Int32 = chunk.withUnsafeMutableBytes { buffer in
          stream.next_out = buffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
          stream.avail_out = uInt(buffer.count)
          return inflate(&stream, Z_NO_FLUSH)
        }
        out.append(contentsOf: chunk[0..<(chunk.count - Int(stream.avail_out))])
        if out.count > limit {
          problem = "inflates to more than \(limit / (1024 * 1024)) MiB; cut there"
          break
        }
        switch rc {
        case Z_STREAM_END:
          if stream.avail_in == 0 { break loop }
          inflateReset(&stream)  // another member follows
        case Z_OK: continue
        case Z_BUF_ERROR:
          if stream.avail_in == 0 {
            problem = "gzip data truncated; the events before the cut were read"
            break loop
          }
        default:
          problem = "corrupt gzip data (\(stream.msg.map { String(cString: $0) } ?? "error \(rc)"))"
          break loop
        }
      }
    }
    return (out, problem)
  }
}

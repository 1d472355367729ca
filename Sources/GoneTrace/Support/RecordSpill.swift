/// Records written to a temporary store (`TextStore`) in a byte form and read back one at a
/// time: what a long run decided and must keep, off the heap (`VerdictList`, `SettledConnections`).
/// Evidence points at the objects that hold its lines; those are kept here and written as their
/// number, so evidence read back shows the very same lines.
final class RecordSpill: @unchecked Sendable {
  /// Where a record is kept: memory holds this, so that one read fetches the record.
  struct Place: Sendable {
    var offset: Int64
    var length: Int
  }

  private let store: TextStore
  private var holders: [AnyObject] = []
  private var holderNumbers: [ObjectIdentifier: UInt32] = [:]
  private let lock = Lock()

  init(directory: String? = nil) { store = TextStore(directory: directory) }

  /// Writes what `body` writes, as one record; returns where it is.
  func write(_ body: (inout ByteWriter) -> Void) -> Place {
    var w = ByteWriter()
    body(&w)
    return w.bytes.withUnsafeBytes { Place(offset: store.appendBlock($0), length: $0.count) }
  }

  func read<T>(at place: Place, _ body: (inout ByteReader) -> T) -> T {
    store.withBytes(at: place.offset, count: place.length) { raw in
      var r = ByteReader(raw: raw)
      return body(&r)
    }
  }

  /// The number `holder` is written as. The evidence of one record mostly shares a holder (an
  /// input file, an evidence store): the writer remembers the last one, and skips the lock.
  private func number(of holder: AnyObject, _ w: inout ByteWriter) -> UInt32 {
    let id = ObjectIdentifier(holder)
    if let last = w.lastHolder, last.id == id { return last.number }
    lock.lock()
    defer { lock.unlock() }
    let n: UInt32
    if let known = holderNumbers[id] {
      n = known
    } else {
      holders.append(holder)
      n = UInt32(holders.count - 1)
      holderNumbers[id] = n
    }
    w.lastHolder = (id, n)
    return n
  }

  private func holder(_ n: Int) -> AnyObject {
    lock.lock()
    defer { lock.unlock() }
    return holders[n]
  }

  func write(_ e: Evidence, _ w: inout ByteWriter) {
    w.int(Int64(e.origin.input))
    w.int(e.origin.line.map(Int64.init))
    w.int(e.origin.record.map(Int64.init))
    w.int(e.time)
    w.int(Int64(e.body.byteCount))
    switch e.body.storage {
    case .inline(let s):
      w.byte(0)
      w.string(s)
    case .stored(let store, let offset, let hash):
      w.byte(1)
      w.int(Int64(number(of: store, &w)))
      w.int(offset)
      w.int(Int64(bitPattern: hash))
    case .source(let file, let offset, let hash, let cut):
      w.byte(cut ? 3 : 2)
      w.int(Int64(number(of: file, &w)))
      w.int(offset)
      w.int(Int64(bitPattern: hash))
    }
  }

  func readEvidence(_ r: inout ByteReader) -> Evidence {
    let input = Int(r.int() ?? 0), line = r.int().map(Int.init), record = r.int().map(Int.init)
    let time = r.int() ?? 0
    let byteCount = Int(r.int() ?? 0)
    let body: LineText
    switch r.byte() {
    case 1:
      let store = holder(Int(r.int() ?? 0)) as! TextStore
      body = LineText(storage: .stored(store, offset: r.int() ?? 0, hash: UInt64(bitPattern: r.int() ?? 0)),
        byteCount: byteCount)
    case let kind where kind >= 2:
      let file = holder(Int(r.int() ?? 0)) as! SourceFile
      body = LineText(storage: .source(file, offset: r.int() ?? 0, hash: UInt64(bitPattern: r.int() ?? 0),
        cut: kind == 3), byteCount: byteCount)
    default:
      body = LineText(r.string() ?? "")
    }
    return Evidence(origin: Origin(input: input, line: line, record: record), time: time, body: body)
  }

  func write(_ list: [Evidence], _ w: inout ByteWriter) {
    w.int(Int64(list.count))
    for e in list { write(e, &w) }
  }

  func readEvidenceList(_ r: inout ByteReader) -> [Evidence] {
    let count = max(0, Int(r.int() ?? 0))
    var list: [Evidence] = []
    list.reserveCapacity(min(count, 64))
    for _ in 0..<count { list.append(readEvidence(&r)) }
    return list
  }

  func write(_ e: Evidence?, _ w: inout ByteWriter) {
    if let e {
      w.byte(1)
      write(e, &w)
    } else {
      w.byte(0)
    }
  }

  func readOptionalEvidence(_ r: inout ByteReader) -> Evidence? { r.byte() == 1 ? readEvidence(&r) : nil }

  func write(_ c: ClientIdentity, _ w: inout ByteWriter) {
    w.string(c.sourceIp)
    w.string(c.userAgent)
    w.string(c.principalId)
  }

  func readClient(_ r: inout ByteReader) -> ClientIdentity {
    ClientIdentity(sourceIp: r.string(), userAgent: r.string(), principalId: r.string())
  }
}

/// Little-endian fields, for `RecordSpill`: an optional integer is `Int64.min` when nil, an
/// optional string its UTF-8 length (-1 when nil) then its bytes.
struct ByteWriter {
  /// A verdict or a connection's timeline is a few hundred bytes to a few KB: room for most, so
  /// that a record is not copied as it grows.
  var bytes: [UInt8] = []
  /// The holder `RecordSpill` last numbered for this record.
  fileprivate var lastHolder: (id: ObjectIdentifier, number: UInt32)?

  init() { bytes.reserveCapacity(1024) }

  mutating func byte(_ b: UInt8) { bytes.append(b) }

  mutating func int(_ v: Int64?) {
    withUnsafeBytes(of: (v ?? .min).littleEndian) { bytes.append(contentsOf: $0) }
  }

  mutating func string(_ s: String?) {
    guard var s else { return int(-1) }
    int(Int64(s.utf8.count))
    s.withUTF8 { bytes.append(contentsOf: $0) }
  }
}

struct ByteReader {
  let raw: UnsafeRawBufferPointer
  var at = 0

  /// 0 past the end (a short read: fields come back empty rather than out of bounds).
  mutating func byte() -> UInt8 {
    guard at < raw.count else { return 0 }
    defer { at += 1 }
    return raw[at]
  }

  mutating func int() -> Int64? {
    guard at + 8 <= raw.count else { return nil }
    defer { at += 8 }
    let v = Int64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: Int64.self))
    return v == .min ? nil : v
  }

  mutating func string() -> String? {
    guard let n = int(), n >= 0, at + Int(n) <= raw.count else { return nil }
    defer { at += Int(n) }
    return String(decoding: UnsafeRawBufferPointer(rebasing: raw[at..<(at + Int(n))]), as: UTF8.self)
  }
}

import FoundationEssentials

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The text of a log line kept as evidence. A run over a day of logs keeps hundreds of thousands
/// of them (every request's lines, every Lambda link) and shows a few thousand: so the engine
/// writes them to a `TextStore` (a temporary file) and keeps only where they are and a hash,
/// and memory follows the number of records, not the bytes of their lines. The string is read
/// back when a report shows it. A line of a regular, uncompressed input is not copied at all:
/// it is read back from that file (`SourceFile`).
///
/// Ordering is by hash, then bytes: it only has to be total and the same in every run (it
/// breaks ties between lines of the same millisecond, which no clock orders), and a hash
/// compares without reading the lines back.
public struct LineText: Sendable, Hashable, Comparable, CustomStringConvertible {
  enum Storage {
    case inline(String)
    case stored(TextStore, offset: Int64, hash: UInt64)
    /// Bytes of an input file; `cut`: the first `byteCount - ellipsis` of them, then the ellipsis.
    case source(SourceFile, offset: Int64, hash: UInt64, cut: Bool)
  }

  let storage: Storage
  public let byteCount: Int

  public static let empty = LineText("")

  public init(_ string: String) {
    storage = .inline(string)
    byteCount = string.utf8.count
  }

  init(storage: Storage, byteCount: Int) {
    self.storage = storage
    self.byteCount = byteCount
  }

  init(stored store: TextStore, offset: Int64, hash: UInt64, byteCount: Int) {
    storage = .stored(store, offset: offset, hash: hash)
    self.byteCount = byteCount
  }

  /// What a line longer than the evidence limit ends with, after its first bytes.
  static let ellipsis: StaticString = " …"

  /// The line of an event whose message is the bytes of `file` at `offset` (`bytes`), cut to
  /// `maxBytes` with the ellipsis appended as `Recognizer.evidenceText` cuts it: the same text,
  /// so the same hash and order.
  init(source file: SourceFile, offset: Int64, bytes: UnsafeRawBufferPointer, maxBytes: Int) {
    guard bytes.count > maxBytes else {
      storage = .source(file, offset: offset, hash: LineText.hash(bytes), cut: false)
      byteCount = bytes.count
      return
    }
    let shown = LineText.withCut(bytes, maxBytes: maxBytes) { LineText.hash($0) }
    storage = .source(file, offset: offset, hash: shown, cut: true)
    byteCount = maxBytes + LineText.ellipsis.utf8CodeUnitCount
  }

  /// Calls `body` with the first `maxBytes` of `bytes` followed by the ellipsis.
  static func withCut<T>(_ bytes: UnsafeRawBufferPointer, maxBytes: Int, _ body: (UnsafeRawBufferPointer) -> T) -> T {
    let tail = ellipsis.utf8CodeUnitCount
    return withUnsafeTemporaryAllocation(byteCount: maxBytes + tail, alignment: 8) { buffer in
      buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[0..<maxBytes]))
      UnsafeMutableRawBufferPointer(rebasing: buffer[maxBytes...]).copyMemory(
        from: UnsafeRawBufferPointer(start: ellipsis.utf8Start, count: tail))
      return body(UnsafeRawBufferPointer(buffer))
    }
  }

  /// Worked out when asked for an inline string: nearly every one is a message's line, replaced
  /// by the connection's next message without ever being compared (hashing each at creation
  /// was 2% of a run over an execution log). A stored line keeps the hash it was written with,
  /// and a line of an input file the one it was given when kept (read back, it would cost a read).
  public var hash: UInt64 {
    switch storage {
    case .inline(var s): return s.withUTF8 { LineText.hash(UnsafeRawBufferPointer($0)) }
    case .stored(_, _, let hash), .source(_, _, let hash, _): return hash
    }
  }

  /// Moves an inline string to `store` (same text, hash and order).
  mutating func store(in store: TextStore) {
    guard case .inline(var s) = storage else { return }
    self = s.withUTF8 { store.append(UnsafeRawBufferPointer($0)) }
  }

  /// Bytes held in memory (an inline string), 0 for a line in the store.
  var inlineByteCount: Int {
    if case .inline = storage { return byteCount }
    return 0
  }

  public var string: String {
    switch storage {
    case .inline(let s): return s
    case .stored(let store, let offset, _): return store.string(at: offset, count: byteCount)
    case .source: return withBytes { String(decoding: $0, as: UTF8.self) }
    }
  }

  public var description: String { string }

  /// Calls `body` with the line's UTF-8 bytes as kept (not yet repaired: `string` is what
  /// decoding them gives), without making a String of them.
  func withBytes<T>(_ body: (UnsafeRawBufferPointer) -> T) -> T {
    switch storage {
    case .inline(var s): return s.withUTF8 { body(UnsafeRawBufferPointer($0)) }
    case .stored(let store, let offset, _): return store.withBytes(at: offset, count: byteCount, body)
    case .source(let file, let offset, _, let cut):
      return cut
        ? file.withBytes(at: offset, count: byteCount - LineText.ellipsis.utf8CodeUnitCount, suffix: LineText.ellipsis, body)
        : file.withBytes(at: offset, count: byteCount, suffix: nil, body)
    }
  }

  public static func == (a: LineText, b: LineText) -> Bool {
    a.byteCount == b.byteCount && a.hash == b.hash && (a.isSameStorage(b) || a.string == b.string)
  }

  public static func < (a: LineText, b: LineText) -> Bool {
    if a.hash != b.hash { return a.hash < b.hash }
    if a.byteCount != b.byteCount { return a.byteCount < b.byteCount }
    if a.isSameStorage(b) { return false }
    return Array(a.string.utf8).lexicographicallyPrecedes(Array(b.string.utf8))
  }

  public func hash(into hasher: inout Hasher) { hasher.combine(hash) }

  private func isSameStorage(_ other: LineText) -> Bool {
    switch (storage, other.storage) {
    case (.stored(let s1, let o1, _), .stored(let s2, let o2, _)): return s1 === s2 && o1 == o2
    case (.source(let f1, let o1, _, let c1), .source(let f2, let o2, _, let c2)): return f1 === f2 && o1 == o2 && c1 == c2
    default: return false
    }
  }

  /// A fast, stable 64-bit hash (the same in every run and on every machine: ordering and the
  /// identity of a reported 410 across `--state` runs depend on it). Eight bytes at a time.
  static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    let k: UInt64 = 0x9E37_79B9_7F4A_7C15
    var h = k ^ UInt64(bytes.count)
    var i = 0
    let n = bytes.count
    while i + 8 <= n {
      h = (h ^ bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
      h ^= h >> 29
      i += 8
    }
    if i < n {
      var tail: UInt64 = 0
      var shift: UInt64 = 0
      while i < n {
        tail |= UInt64(bytes[i]) << shift
        shift += 8
        i += 1
      }
      h = (h ^ tail) &* 0xC4CE_B9FE_1A85_EC53
    }
    h ^= h >> 33
    h = h &* k
    return h ^ (h >> 31)
  }
}

/// Where evidence lines are kept: an append-only temporary file, unlinked as soon as it is
/// created, written through a buffer and read back with `pread` (lines still in the buffer are
/// read from it). One per recognizer, so appends never contend. Without a writable temporary
/// directory it keeps the lines in memory, and the run still works.
public final class TextStore: @unchecked Sendable {
  private let fd: Int32
  private let lock = Lock()
  private static let bufferSize = 1 << 20
  private var buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: TextStore.bufferSize, alignment: 8)
  private var buffered = 0
  /// Bytes before the buffer (in the file, or in `memoryChunks`).
  private var flushed: Int64 = 0
  /// Memory mode: flushed buffers and the offset each starts at.
  private var memoryChunks: [(start: Int64, bytes: [UInt8])] = []

  /// `directory` defaults to `$TMPDIR`, else /tmp.
  public init(directory: String? = nil) {
    let dir = directory ?? ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
    fd = TextStore.openTemporaryFile(in: dir)
  }

  /// Whether the lines are in a file (false: kept in memory, no temporary directory was writable).
  public var isFileBacked: Bool { fd >= 0 }

  deinit {
    if fd >= 0 { close(fd) }
    buffer.deallocate()
  }

  private static func openTemporaryFile(in dir: String) -> Int32 {
    var template = Array((dir + "/gonetrace-evidence.XXXXXX").utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    guard fd >= 0 else { return -1 }
    template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
    return fd
  }

  /// Keeps `bytes` and returns its text (read back as UTF-8, ill-formed sequences repaired).
  public func append(_ bytes: UnsafeRawBufferPointer) -> LineText {
    LineText(stored: self, offset: appendBlock(bytes), hash: LineText.hash(bytes), byteCount: bytes.count)
  }

  /// Keeps `bytes` and returns where they are, for `withBytes(at:count:_:)`.
  func appendBlock(_ bytes: UnsafeRawBufferPointer) -> Int64 {
    lock.lock()
    defer { lock.unlock() }
    if buffered + bytes.count > buffer.count { flush() }
    let offset = flushed + Int64(buffered)
    if bytes.count > buffer.count {
      // Longer than the buffer (not from the recognizer, which cuts lines to 1 KB): write through.
      write(bytes)
    } else {
      UnsafeMutableRawBufferPointer(rebasing: buffer[buffered..<buffered + bytes.count]).copyMemory(from: bytes)
      buffered += bytes.count
    }
    return offset
  }

  private func flush() {
    guard buffered > 0 else { return }
    write(UnsafeRawBufferPointer(rebasing: buffer[0..<buffered]))
    buffered = 0
  }

  private func write(_ bytes: UnsafeRawBufferPointer) {
    if fd >= 0 {
      var done = 0
      while done < bytes.count {
        let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(flushed) + off_t(done))
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return fallBackToMemory(bytes, written: done) }
        done += n
      }
    } else {
      memoryChunks.append((flushed, Array(bytes)))
    }
    flushed += Int64(bytes.count)
  }

  /// A full disk mid-run: what did not fit stays in memory (read back from there).
  private func fallBackToMemory(_ bytes: UnsafeRawBufferPointer, written: Int) {
    memoryChunks.append((flushed + Int64(written), Array(UnsafeRawBufferPointer(rebasing: bytes[written...]))))
    flushed += Int64(bytes.count)
  }

  func string(at offset: Int64, count: Int) -> String {
    withBytes(at: offset, count: count) { String(decoding: $0, as: UTF8.self) }
  }

  /// Calls `body` with the `count` bytes kept at `offset` (from the buffer, the memory fallback
  /// or the file; bytes a failed read did not deliver are left out).
  func withBytes<T>(at offset: Int64, count: Int, _ body: (UnsafeRawBufferPointer) -> T) -> T {
    lock.lock()
    if offset >= flushed {
      defer { lock.unlock() }
      let start = Int(offset - flushed)
      return body(UnsafeRawBufferPointer(rebasing: buffer[start..<start + count]))
    }
    if let chunk = memoryChunks.last(where: { $0.start <= offset }), offset + Int64(count) <= chunk.start + Int64(chunk.bytes.count) {
      defer { lock.unlock() }
      let start = Int(offset - chunk.start)
      return chunk.bytes[start..<start + count].withUnsafeBytes(body)
    }
    // Bytes in the file never change: report threads read them without waiting on each other.
    lock.unlock()
    return withUnsafeTemporaryAllocation(byteCount: count, alignment: 16) { out in
      body(UnsafeRawBufferPointer(rebasing: out[0..<preadFully(fd, into: out, at: offset)]))
    }
  }
}

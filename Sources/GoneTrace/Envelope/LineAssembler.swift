/// Cuts arbitrary chunks into complete lines, carrying a partial last line to the next chunk.
/// Lines are handed out as views into the chunk (or into the carry buffer for the one line that
/// spans two chunks), so the common case copies nothing.
struct LineAssembler {
  /// The longest line kept whole. Longer lines are cut with a diagnostic: memory stays bounded
  /// whatever the input (a 50 MB line is kept; a 1 GB line without a newline is not).
  let maxLineBytes: Int
  private var carry: [UInt8] = []
  private var carryOverflowed = false
  private(set) var lineNumber = 0

  init(maxLineBytes: Int = 64 * 1024 * 1024) {
    self.maxLineBytes = maxLineBytes
  }

  /// Calls `body(line, lineNumber, wasCut)` for every complete line in `chunk` (without its `\n`).
  mutating func feed(
    _ chunk: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer, Int, Bool) -> Void
  ) {
    var start = 0
    let n = chunk.count
    if !carry.isEmpty || carryOverflowed {
      guard let nl = Bytes.index(of: Bytes.newline, in: chunk, from: 0, to: n) else {
        appendCarry(chunk)
        return
      }
      appendCarry(UnsafeRawBufferPointer(rebasing: chunk[0..<nl]))
      lineNumber += 1
      let cut = carryOverflowed
      carry.withUnsafeBytes { body($0, lineNumber, cut) }
      carry.removeAll(keepingCapacity: carry.count <= 1 << 20)
      carryOverflowed = false
      start = nl + 1
    }
    while start < n {
      guard let nl = Bytes.index(of: Bytes.newline, in: chunk, from: start, to: n) else {
        appendCarry(UnsafeRawBufferPointer(rebasing: chunk[start..<n]))
        return
      }
      lineNumber += 1
      body(UnsafeRawBufferPointer(rebasing: chunk[start..<nl]), lineNumber, false)
      start = nl + 1
    }
  }

  /// Delivers a last line that had no newline.
  mutating func finish(_ body: (UnsafeRawBufferPointer, Int, Bool) -> Void) {
    guard !carry.isEmpty || carryOverflowed else { return }
    lineNumber += 1
    let cut = carryOverflowed
    carry.withUnsafeBytes { body($0, lineNumber, cut) }
    carry = []
    carryOverflowed = false
  }

  private mutating func appendCarry(_ bytes: UnsafeRawBufferPointer) {
    let room = maxLineBytes - carry.count
    if bytes.count > room {
      if room > 0 { carry.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[0..<room])) }
      carryOverflowed = true
    } else {
      carry.append(contentsOf: bytes)
    }
  }
}

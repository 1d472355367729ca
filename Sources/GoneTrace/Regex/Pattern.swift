internal import CPCRE2

/// A pattern that failed to compile, or a match that PCRE2 aborted.
public struct PatternError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The pattern as written.
  public var pattern: String
  /// PCRE2's error code: >= 100 for compile errors, < 0 for match errors.
  public var code: Int32
  /// Byte offset in the pattern where compilation failed.
  public var offset: Int?

  public var message: String {
    var buffer = [UInt8](repeating: 0, count: 256)
    let n = pcre2_get_error_message_8(code, &buffer, buffer.count)
    return n < 0 ? "PCRE2 error \(code)" : String(decoding: buffer[..<Int(n)], as: UTF8.self)
  }

  public var description: String {
    if let offset {
      return "invalid pattern /\(pattern)/: \(message) at offset \(offset)"
    }
    return "pattern /\(pattern)/: \(message)"
  }
}

/// A compiled, JIT-compiled PCRE2 pattern. Immutable after `init`, so one instance is shared by
/// all threads; each thread matches through its own `Matcher`.
public final class Pattern: @unchecked Sendable {
  let code: OpaquePointer
  public let source: String
  /// False where the JIT is unavailable (some architectures, or SELinux denying executable memory):
  /// matching then runs on the interpreter, 25-30x slower but with the same results.
  public let usesJIT: Bool
  /// Named groups: name -> group number.
  public let groupNumbers: [String: Int]
  public let captureCount: Int

  /// - Parameter caseless: match ASCII letters regardless of case.
  public init(_ source: String, caseless: Bool = false) throws(PatternError) {
    var errorCode: Int32 = 0
    var errorOffset = 0
    let bytes = Array(source.utf8)  // byte length, never Character count
    // Byte mode (no PCRE2_UTF): logs are untrusted bytes, and this needs no UTF validity check.
    var options = PCRE2_MULTILINE
    if caseless { options |= PCRE2_CASELESS }
    guard let code = pcre2_compile_8(bytes, bytes.count, options, &errorCode, &errorOffset, nil)
    else { throw PatternError(pattern: source, code: errorCode, offset: errorOffset) }
    self.code = code
    self.source = source
    usesJIT = pcre2_jit_compile_8(code, PCRE2_JIT_COMPLETE) == 0

    var count: UInt32 = 0
    pcre2_pattern_info_8(code, UInt32(PCRE2_INFO_CAPTURECOUNT), &count)
    captureCount = Int(count)

    var names: [String: Int] = [:]
    var nameCount: UInt32 = 0
    var entrySize: UInt32 = 0
    var table: UnsafePointer<UInt8>? = nil
    pcre2_pattern_info_8(code, UInt32(PCRE2_INFO_NAMECOUNT), &nameCount)
    pcre2_pattern_info_8(code, UInt32(PCRE2_INFO_NAMEENTRYSIZE), &entrySize)
    _ = withUnsafeMutablePointer(to: &table) { pcre2_pattern_info_8(code, UInt32(PCRE2_INFO_NAMETABLE), UnsafeMutableRawPointer($0)) }
    if let table {
      for i in 0..<Int(nameCount) {
        // Each entry: group number (2 bytes, big-endian), then the NUL-terminated name.
        let entry = table + i * Int(entrySize)
        let number = Int(entry[0]) << 8 | Int(entry[1])
        names[String(cString: entry + 2)] = number
      }
    }
    groupNumbers = names
  }

  deinit { pcre2_code_free_8(code) }
}

/// Per-thread match state for one `Pattern`: match data and a match context with limits, created
/// once and reused for every match. Not thread-safe; one per worker.
public final class Matcher {
  public let pattern: Pattern
  private let matchData: OpaquePointer
  private let context: OpaquePointer
  private let jitStack: OpaquePointer?
  private let ovector: UnsafeMutablePointer<Int>
  /// The last match's subject, behind a pointer: a class's stored `var` is checked for
  /// exclusivity at run time on every access (a thread-local lookup), and it is set and read
  /// for every match.
  private let subject: UnsafeMutablePointer<UnsafeRawBufferPointer>

  /// Limits so that a hostile line cannot make a pattern run away: the match limit bounds
  /// backtracking steps, the depth limit the interpreter's recursion. Hitting one is reported
  /// as `PatternError` with code `PCRE2_ERROR_MATCHLIMIT` / `DEPTHLIMIT`, never a hang.
  public static let matchLimit: UInt32 = 2_000_000
  public static let depthLimit: UInt32 = 10_000

  public init(_ pattern: Pattern) {
    self.pattern = pattern
    subject = .allocate(capacity: 1)
    subject.initialize(to: UnsafeRawBufferPointer(start: nil, count: 0))
    matchData = pcre2_match_data_create_from_pattern_8(pattern.code, nil)
    ovector = pcre2_get_ovector_pointer_8(matchData)
    context = pcre2_match_context_create_8(nil)
    pcre2_set_match_limit_8(context, Matcher.matchLimit)
    pcre2_set_depth_limit_8(context, Matcher.depthLimit)
    if pattern.usesJIT {
      // The default 32 KiB JIT stack is too small for some nested groups; 1 MiB is the
      // documented "more than enough" (pcre2jit(3)).
      jitStack = pcre2_jit_stack_create_8(32 * 1024, 1024 * 1024, nil)
      pcre2_jit_stack_assign_8(context, nil, jitStack.map { UnsafeMutableRawPointer($0) })
    } else {
      jitStack = nil
    }
  }

  deinit {
    pcre2_match_data_free_8(matchData)
    pcre2_match_context_free_8(context)
    if let jitStack { pcre2_jit_stack_free_8(jitStack) }
    subject.deallocate()
  }

  /// Finds the first match in `bytes` starting at byte `from`. Group ranges are then read with
  /// `range(_:)`, valid until the next call.
  public func firstMatch(in bytes: UnsafeRawBufferPointer, from: Int = 0) throws(PatternError) -> Bool {
    subject.pointee = bytes
    var zero: UInt8 = 0
    // PCRE2 rejects a NULL subject even with length 0 (rust-pcre2 issue #42).
    let rc: Int32 = withUnsafeMutablePointer(to: &zero) { dummy in
      let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer(dummy)
      return pattern.usesJIT
        ? pcre2_jit_match_8(pattern.code, base, bytes.count, from, 0, matchData, context)
        : pcre2_match_8(pattern.code, base, bytes.count, from, 0, matchData, context)
    }
    if rc == PCRE2_ERROR_NOMATCH { return false }
    guard rc > 0 else { throw PatternError(pattern: pattern.source, code: rc, offset: nil) }
    return true
  }

  /// Byte range of group `number` in the last match's subject, nil when the group did not take part.
  public func range(_ number: Int) -> Range<Int>? {
    let lower = ovector[2 * number]
    let upper = ovector[2 * number + 1]
    guard lower >= 0, upper >= lower, number <= pattern.captureCount else { return nil }
    return lower..<upper
  }

  /// Bytes of group `number` in the last match, nil when it did not take part.
  public func bytes(_ number: Int) -> UnsafeRawBufferPointer? {
    range(number).map { UnsafeRawBufferPointer(rebasing: subject.pointee[$0]) }
  }

  public func string(_ name: String) -> String? {
    pattern.groupNumbers[name].flatMap { bytes($0) }.map { String(bytes: $0) }
  }

  public static func isLimitError(_ error: PatternError) -> Bool {
    error.code == PCRE2_ERROR_MATCHLIMIT || error.code == PCRE2_ERROR_DEPTHLIMIT
      || error.code == PCRE2_ERROR_JIT_STACKLIMIT || error.code == PCRE2_ERROR_HEAPLIMIT
  }
}

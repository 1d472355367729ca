internal import CIsal

/// One gzip stream inflated member after member through ISA-L's igzip, for both gzip paths:
/// gzipped inputs (`GzipSource`) and subscription payloads (`Inflate`). igzip streams like
/// zlib (bounded buffers, so memory stays flat) at about 2.6 times zlib's speed here; libdeflate,
/// as fast, inflates only whole buffers, and S3 exports hold 67 MB single-member objects.
/// The caller decides what a member boundary means (another member, trailing junk).
final class Inflater {
  enum Step: Equatable {
    /// The input or the output ran out inside a member.
    case more
    /// A member ended, its CRC and length checked. Input after it is left unread.
    case memberEnd
    /// Not valid gzip, with the reason in words.
    case corrupt(String)
  }

  /// ISA-L's state holds its window and tables inline (tens of kB): kept off the stack.
  private let state: UnsafeMutablePointer<inflate_state>

  init() {
    state = .allocate(capacity: 1)
    state.initialize(to: inflate_state())
    isal_inflate_init(state)
    state.pointee.crc_flag = UInt32(ISAL_GZIP)
  }

  deinit { state.deallocate() }

  /// Input not yet inflated.
  var pendingInput: UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(start: state.pointee.next_in, count: Int(state.pointee.avail_in))
  }

  /// The next bytes to inflate; the memory must stay valid until they are used up.
  func setInput(_ bytes: UnsafeRawBufferPointer) {
    state.pointee.next_in = UnsafeMutablePointer(mutating: bytes.baseAddress?.assumingMemoryBound(to: UInt8.self))
    state.pointee.avail_in = UInt32(bytes.count)
  }

  /// Inflates pending input into `output` (not empty): returns the bytes written and why it stopped.
  func inflate(into output: UnsafeMutableRawBufferPointer) -> (written: Int, step: Step) {
    state.pointee.next_out = output.baseAddress!.assumingMemoryBound(to: UInt8.self)
    state.pointee.avail_out = UInt32(output.count)
    let rc = isal_inflate(state)
    let written = output.count - Int(state.pointee.avail_out)
    if rc != ISAL_DECOMP_OK { return (written, .corrupt(Inflater.reason(rc))) }
    return (written, state.pointee.block_state == ISAL_BLOCK_FINISH ? .memberEnd : .more)
  }

  /// Starts a new member at the pending input.
  func startMember() {
    let input = pendingInput
    isal_inflate_reset(state)
    state.pointee.crc_flag = UInt32(ISAL_GZIP)
    setInput(input)
  }

  private static func reason(_ rc: Int32) -> String {
    switch rc {
    case ISAL_INVALID_BLOCK: "invalid deflate block"
    case ISAL_INVALID_SYMBOL: "invalid deflate symbol"
    case ISAL_INVALID_LOOKBACK: "invalid distance too far back"
    case ISAL_INVALID_WRAPPER: "invalid gzip header"
    case ISAL_UNSUPPORTED_METHOD: "unknown compression method"
    case ISAL_INCORRECT_CHECKSUM: "incorrect data check"
    default: "inflate error \(rc)"
    }
  }
}

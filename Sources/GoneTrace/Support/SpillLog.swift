/// Small fixed-size records a run appends by the hundred thousand and reads back once, at the
/// end, to pick out the few it needs: the Lambda invocation of every message, and the START and
/// END of every invocation. Kept in a hash table they were the largest part of the memory of a
/// gigabyte run (and grew with the input, not with the connections). Here they go to the
/// recognizer's `TextStore` in 64 KB blocks, and the one pass that reads them back is
/// sequential. Without a store (tests, a replayed `--state`), the blocks stay in memory.
struct SpillLog<Record: BitwiseCopyable & Sendable>: Sendable {
  enum Block: Sendable {
    case stored(TextStore, offset: Int64, count: Int)
    case memory([Record])
  }

  private let store: TextStore?
  private var blocks: [Block] = []
  /// Records not yet in a block.
  private var pending: [Record] = []

  private static var recordsPerBlock: Int { max(1, 65_536 / MemoryLayout<Record>.stride) }

  init(store: TextStore?) {
    self.store = store
  }

  var isEmpty: Bool { blocks.isEmpty && pending.isEmpty }

  mutating func append(_ record: Record) {
    pending.append(record)
    if pending.count >= Self.recordsPerBlock { seal() }
  }

  /// Appends `other`'s records after this log's own.
  mutating func append(contentsOf other: SpillLog) {
    seal()
    blocks += other.blocks
    if !other.pending.isEmpty { blocks.append(.memory(other.pending)) }
  }

  /// Moves the records not yet in a block to one (to the store, when there is one).
  mutating func seal() {
    guard !pending.isEmpty else { return }
    if let store {
      let offset = pending.withUnsafeBytes { store.appendBlock($0) }
      blocks.append(.stored(store, offset: offset, count: pending.count))
      pending.removeAll(keepingCapacity: true)
    } else {
      blocks.append(.memory(pending))
      pending = []
    }
  }

  /// Every record, in the order appended.
  func forEach(_ body: (Record) -> Void) {
    let stride = MemoryLayout<Record>.stride
    for block in blocks {
      switch block {
      case .memory(let records): records.forEach(body)
      case .stored(let store, let offset, let count):
        store.withBytes(at: offset, count: count * stride) { raw in
          // A short read (the temporary file gone bad) yields the whole records it holds.
          for i in 0..<raw.count / stride { body(raw.loadUnaligned(fromByteOffset: i * stride, as: Record.self)) }
        }
      }
    }
    pending.forEach(body)
  }
}

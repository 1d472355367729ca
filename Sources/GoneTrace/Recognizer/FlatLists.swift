/// Lists of plain values back to back in raw memory, with their bounds. The recognizer reads its
/// rules' lists (capture groups, keys) for every rule that passes its prefilter on every event:
/// from an array of arrays, each read retained and released the inner array; from here nothing
/// is reference counted. Not owning: `deallocate` frees it, once, when its owner goes.
struct FlatLists<Element> {
  private let elements: UnsafeMutablePointer<Element>
  private let starts: UnsafeMutablePointer<Int>
  let count: Int

  init(_ lists: [[Element]]) {
    count = lists.count
    let total = lists.reduce(0) { $0 + $1.count }
    elements = .allocate(capacity: max(1, total))
    starts = .allocate(capacity: lists.count + 1)
    var n = 0
    for (i, list) in lists.enumerated() {
      starts[i] = n
      (elements + n).initialize(from: list, count: list.count)
      n += list.count
    }
    starts[lists.count] = n
  }

  subscript(i: Int) -> UnsafeBufferPointer<Element> {
    UnsafeBufferPointer(start: elements + starts[i], count: starts[i + 1] - starts[i])
  }

  func deallocate() {
    elements.deinitialize(count: starts[count])
    elements.deallocate()
    starts.deallocate()
  }
}

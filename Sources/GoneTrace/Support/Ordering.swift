extension Array {
  /// Sorts by a key taken once per element, then moves the elements into place. For arrays of
  /// large values (calls, with their lines): a comparison that reads two elements copies both
  /// (a dozen reference-counted fields each), and building a sorted copy copies every one.
  /// The same order as `sorted { less(key($0), key($1)) }`; `less` is also given the elements'
  /// positions, for a tie that only the elements themselves can break.
  mutating func sort<Key>(byKey key: (Element) -> Key, _ less: ((key: Key, index: Int), (key: Key, index: Int)) -> Bool) {
    let keys = map(key)
    let order = indices.sorted { less((keys[$0], $0), (keys[$1], $1)) }
    // Position j takes the element at order[j]: each cycle of the permutation is walked with
    // swaps, which move elements without copying them.
    var placed = [Bool](repeating: false, count: count)
    for start in indices where !placed[start] {
      var j = start
      while true {
        placed[j] = true
        let next = order[j]
        if next == start { break }
        swapAt(j, next)
        j = next
      }
    }
  }
}

extension RandomAccessCollection {
  /// The first index whose element satisfies `belongs`, where the elements that do all come
  /// after those that do not (as in swift-algorithms, which this package does not depend on for
  /// one function): a binary search.
  func partitioningIndex(where belongs: (Element) -> Bool) -> Index {
    var low = startIndex
    var count = self.count
    while count > 0 {
      let half = count / 2
      let mid = index(low, offsetBy: half)
      if belongs(self[mid]) {
        count = half
      } else {
        low = index(after: mid)
        count -= half + 1
      }
    }
    return low
  }
}

extension Dictionary {
  /// Changes every value in place. Not `for i in values.indices { values[i]… }`: those indices
  /// (`DefaultIndices`) hold the table they index, so the first write finds it shared and copies
  /// all of it (every value retained, then the old table released). A per-piece merge copied
  /// the requests, activity and links tables this way, and finishing the timelines copied all
  /// of them, while the other thread allocated from the same malloc arena.
  mutating func updateEachValue(_ update: (inout Value) -> Void) {
    var i = values.startIndex
    while i != values.endIndex {
      update(&values[i])
      values.formIndex(after: &i)
    }
  }
}

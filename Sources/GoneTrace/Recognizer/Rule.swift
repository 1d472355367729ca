import FoundationEssentials

/// A recognition rule as written in a rules file: the built-in rules are the same kind of data a
/// user writes with `--rules FILE` (lnav's format files are the model).
public struct RuleDefinition: Codable, Sendable, Equatable {
  public enum Anchor: String, Codable, Sendable {
    /// The prefilter must begin the message (after an execution log's `(<requestId>) ` prefix).
    case start
  }

  public enum Scope: String, Codable, Sendable {
    /// Only execution-log lines (`(<requestId>) …`).
    case execution
    /// Only lines that are not execution-log lines (Lambda, access logs, anything else).
    case other
    case any
  }

  public var name: String
  public var fact: Fact.Kind
  /// A literal the message must contain (case-sensitive) before the pattern is tried: the cheap
  /// check that keeps the regex off the vast majority of lines.
  public var prefilter: String
  public var anchor: Anchor?
  public var scope: Scope?
  /// PCRE2 pattern; named groups are field names (`connectionId`, `lambdaRequestId`, …).
  public var pattern: String?
  public var caseless: Bool?
  /// Key extraction for JSON-ish messages: field name -> keys to look for, in order of preference.
  public var keys: [String: [String]]?
  /// Constant fields set when the rule matches (`"role": "echo"`, `"operation": "PostToConnection"`).
  public var set: [String: String]?
  /// No later rule is tried on an event this rule matched.
  public var final: Bool?
  /// Verbatim lines the rule must match; checked when the rules are loaded.
  public var samples: [String]?
  /// Where the line format comes from.
  public var source: String?
}

public struct RuleFile: Codable, Sendable {
  public var version: Int
  public var rules: [RuleDefinition]
}

public enum RuleError: Error, Equatable, Sendable, CustomStringConvertible {
  case unreadable(file: String, reason: String)
  case invalid(file: String, reason: String)
  case badRule(file: String, rule: String, reason: String)

  public var description: String {
    switch self {
    case .unreadable(let file, let reason): return "\(file): cannot read rules: \(reason)"
    case .invalid(let file, let reason): return "\(file): not a rules file: \(reason)"
    case .badRule(let file, let rule, let reason): return "\(file): rule \"\(rule)\": \(reason)"
    }
  }
}

/// A rule ready to run: pattern compiled, group numbers resolved to fields.
struct CompiledRule: Sendable {
  let definition: RuleDefinition
  let kind: Fact.Kind
  let prefilterID: Int
  let anchoredAtStart: Bool
  let scope: RuleDefinition.Scope
  let pattern: Pattern?
  /// (group number, field) for each named group.
  let groups: [(Int, Field)]
  let keys: [(Field, [[UInt8]])]
  /// The same keys as ids into the rule set's `keyTable`.
  let keyIDs: [(Field, [Int])]
  let constants: [(Field, String)]
  let isFinal: Bool
}

/// All rules of a run, compiled once and shared by every worker thread.
public final class RuleSet: Sendable {
  let rules: [CompiledRule]
  /// Distinct prefilter literals: each is checked at most once per event however many rules share it.
  let prefilters: [[UInt8]]
  /// How the prefilters are searched for (one pass per rare anchor byte).
  let literalScan: LiteralScan
  /// Every key any rule extracts, found in one pass per message.
  let keyTable: KeyTable
  public let ruleNames: [String]

  public init(files: [(name: String, contents: RuleFile)]) throws(RuleError) {
    var compiled: [CompiledRule] = []
    var literals: [[UInt8]] = []
    var literalIDs: [[UInt8]: Int] = [:]
    var seen = Set<String>()
    var keyLiterals: [[UInt8]] = []
    var keyLiteralIDs: [[UInt8]: Int] = [:]
    for (file, contents) in files {
      guard contents.version == 1 else {
        throw .invalid(file: file, reason: "version \(contents.version) is not supported (expected 1)")
      }
      for rule in contents.rules {
        func bad(_ reason: String) -> RuleError { .badRule(file: file, rule: rule.name, reason: reason) }
        guard seen.insert(rule.name).inserted else { throw bad("a rule with this name already exists") }
        guard !rule.prefilter.isEmpty else { throw bad("prefilter is empty: every rule needs a literal") }
        guard rule.pattern != nil || rule.keys != nil else { throw bad("needs a pattern or keys") }
        let literal = Array(rule.prefilter.utf8)
        let id = literalIDs[literal] ?? {
          literals.append(literal)
          literalIDs[literal] = literals.count - 1
          return literals.count - 1
        }()
        var pattern: Pattern?
        var groups: [(Int, Field)] = []
        if let source = rule.pattern {
          do {
            pattern = try Pattern(source, caseless: rule.caseless ?? false)
          } catch {
            throw bad(error.description)
          }
          for (name, number) in pattern!.groupNumbers.sorted(by: { $0.value < $1.value }) {
            guard let field = Field(rawValue: name) else {
              throw bad("group (?<\(name)>…) is not a field; fields are "
                + Field.allCases.map(\.rawValue).joined(separator: ", "))
            }
            groups.append((number, field))
          }
        }
        var keys: [(Field, [[UInt8]])] = []
        for (name, list) in rule.keys ?? [:] {
          guard let field = Field(rawValue: name) else { throw bad("keys: \"\(name)\" is not a field") }
          keys.append((field, list.map { Array($0.utf8) }))
        }
        keys.sort { ($0.0.extractionRank, $0.0.rawValue) < ($1.0.extractionRank, $1.0.rawValue) }
        let keyIDs: [(Field, [Int])] = keys.map { field, list in
          (field, list.map { k in
            keyLiteralIDs[k] ?? {
              keyLiterals.append(k)
              keyLiteralIDs[k] = keyLiterals.count - 1
              return keyLiterals.count - 1
            }()
          })
        }
        var constants: [(Field, String)] = []
        for (name, value) in (rule.set ?? [:]).sorted(by: { $0.key < $1.key }) {
          guard let field = Field(rawValue: name) else { throw bad("set: \"\(name)\" is not a field") }
          constants.append((field, value))
        }
        for sample in rule.samples ?? [] where !sample.contains(rule.prefilter) {
          throw bad("sample does not contain the prefilter \"\(rule.prefilter)\": \(sample)")
        }
        if let pattern {
          let matcher = Matcher(pattern)
          for sample in rule.samples ?? [] {
            let matched = (try? Array(sample.utf8).withUnsafeBytes { try matcher.firstMatch(in: $0) }) ?? false
            guard matched else { throw bad("pattern does not match its sample: \(sample)") }
          }
        }
        let scope = rule.scope ?? .any
        compiled.append(CompiledRule(definition: rule, kind: rule.fact, prefilterID: id,
          anchoredAtStart: rule.anchor == .start, scope: scope, pattern: pattern, groups: groups, keys: keys, keyIDs: keyIDs,
          constants: constants, isFinal: rule.final ?? false))
      }
    }
    rules = compiled
    prefilters = literals
    literalScan = LiteralScan(literals: literals)
    keyTable = KeyTable(keys: keyLiterals)
    ruleNames = compiled.map(\.definition.name)
  }

  /// The built-in rules plus user rule files (user rules run first, so they can claim a line).
  public static func load(userFiles: [String]) throws(RuleError) -> RuleSet {
    var files: [(String, RuleFile)] = []
    for path in userFiles {
      guard let data = FileManager.default.contents(atPath: path) else {
        throw .unreadable(file: path, reason: "no such file or not readable")
      }
      do {
        files.append((path, try JSONDecoder().decode(RuleFile.self, from: data)))
      } catch {
        throw .invalid(file: path, reason: "\(error)")
      }
    }
    files.append(("built-in rules", BuiltinRules.file))
    return try RuleSet(files: files)
  }

  public static let builtin: RuleSet = {
    do { return try RuleSet(files: [("built-in rules", BuiltinRules.file)]) } catch {
      fatalError("built-in rules do not compile: \(error)")
    }
  }()
}

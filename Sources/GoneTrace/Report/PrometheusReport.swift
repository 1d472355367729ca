/// `--format prometheus`: node_exporter's textfile-collector format. Every cause/detail series is
/// written, zeros included, so a rate() or an alert has a series from the first scrape.
/// With `--state` the counters are totals over all runs (a counter must never go down); without
/// it they are this run's.
public enum PrometheusReport {
  public static func render(_ a: Analysis, _ context: ReportContext) -> String {
    let totals = context.cumulative ?? (RunTotals() + a)
    var out = ""
    func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
      out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
      for s in samples { out += name + (s.labels.isEmpty ? "" : "{\(s.labels)}") + " \(s.value)\n" }
    }
    metric("gonetrace_gone_total", "counter", "410 GoneException calls classified, by cause and detail.",
      Detail.allCases.map { ("cause=\"\($0.cause.rawValue)\",detail=\"\($0.rawValue)\"", String(totals.gone[$0])) })
    metric("gonetrace_events_read_total", "counter", "Log events read.", [("", String(totals.events))])
    metric("gonetrace_unparsed_total", "counter",
      "Lines or records that could not be used; each has a diagnostic in the report.", [("", String(totals.unparsed))])
    metric("gonetrace_runs_total", "counter", "Runs that contributed to these counters.", [("", String(totals.runs))])
    metric("gonetrace_last_run_gone", "gauge", "410s reported by the last run.", [("", String(a.verdicts.count))])
    metric("gonetrace_last_run_connections_seen", "gauge", "Connections seen by the last run.",
      [("", String(a.connectionsSeen))])
    metric("gonetrace_last_run_timestamp_seconds", "gauge", "When the last run finished, Unix time.",
      [("", seconds(context.generatedAt))])
    if let end = a.timeRange?.upperBound {
      metric("gonetrace_last_event_timestamp_seconds", "gauge", "Time of the newest event read, Unix time.",
        [("", seconds(end))])
    }
    return out
  }

  static func seconds(_ ms: EpochMillis) -> String {
    let s = ms / 1000, frac = ms % 1000
    return frac == 0 ? String(s) : String(s) + "." + String(String(1000 + frac).dropFirst())
  }
}

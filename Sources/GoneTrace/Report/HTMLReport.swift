/// `--format html`: one self-contained file to share. No network fetch of any kind: the CSS, the
/// script and the charts (SVG drawn here, so they show even with scripts off) are all inline.
/// The script only sorts and filters the verdict table and opens a verdict's evidence.
public enum HTMLReport {
  public static func render(_ a: Analysis, _ context: ReportContext) -> String {
    let counts = GoneCounts(a.verdicts)
    var out = """
      <!DOCTYPE html>
      <html lang="en">
      <head>
      <meta charset="utf-8">
      <meta name="viewport" content="width=device-width, initial-scale=1">
      <meta name="generator" content="gonetrace \(escape(context.version))">
      <title>gonetrace: \(a.verdicts.count) × 410 GoneException</title>
      <style>\(style)</style>
      </head>
      <body>
      <header>
      <h1>gonetrace <span class="count">\(a.verdicts.count) × 410 GoneException</span></h1>
      <p>\(escape(ReportText.headline(a, context)))</p>
      <p class="muted">Generated \(Timestamp.format(context.generatedAt)) by gonetrace \(escape(context.version)).</p>
      </header>

      """
    out += "<section class=\"cards\">\n"
    for cause in Cause.allCases {
      out += "<div class=\"card\" style=\"border-color:\(color(cause))\"><div class=\"n\">\(counts[cause])</div>"
        + "<div>\(cause.rawValue)</div></div>\n"
    }
    out += "</section>\n"
    if !a.verdicts.isEmpty {
      out += "<section><h2>410s over time</h2>\n\(timeline(a.verdicts))\(legend())</section>\n"
      out += "<section class=\"charts\"><div><h2>By cause</h2>\n"
      out += bars(Cause.allCases.map { ($0.rawValue, counts[$0], color($0)) })
      out += "</div><div><h2>By detail</h2>\n"
      out += bars(Detail.allCases.filter { counts[$0] > 0 }.map { ($0.rawValue, counts[$0], color($0.cause)) })
      out += "</div></section>\n"
      out += "<section><h2>What to do</h2><dl>\n"
      for cause in Cause.allCases where counts[cause] > 0 {
        out += "<dt><span class=\"chip\" style=\"background:\(color(cause))\"></span>\(cause.rawValue) "
          + "(\(counts[cause]))</dt><dd>\(escape(cause.advice))</dd>\n"
      }
      out += "</dl></section>\n"
      out += verdictTable(a)
    }
    out += inputTable(a)
    out += "<script>\(script)</script>\n</body>\n</html>\n"
    return out
  }

  static func verdictTable(_ a: Analysis) -> String {
    var out = """
      <section><h2>410s</h2>
      <div class="filters"><input id="q" type="search" placeholder="Filter: connection id, cause, text…" aria-label="Filter verdicts">
      <select id="cause" aria-label="Cause"><option value="">all causes</option>
      """
    for cause in Cause.allCases { out += "<option>\(cause.rawValue)</option>" }
    out += """
      </select> <span id="shown" class="muted"></span></div>
      <table id="verdicts"><thead><tr>
      <th data-key="time">Time</th><th data-key="op">Operation</th><th data-key="conn">Connection</th>
      <th data-key="cause">Cause</th><th data-key="detail">Detail</th><th data-key="conf">Confidence</th>
      </tr></thead>

      """
    // One tbody per verdict, so sorting moves a verdict's row and its evidence row together.
    for v in a.verdicts {
      let search = ([v.connectionId, v.newConnectionId, v.operation, v.cause.rawValue, v.detail.rawValue, v.explanation]
        .compactMap { $0 } + v.evidence.map(\.text)).joined(separator: " ").lowercased()
      out += "<tbody data-time=\"\(v.time)\" data-op=\"\(escape(v.operation ?? ""))\" "
        + "data-conn=\"\(escape(v.connectionId ?? ""))\" data-cause=\"\(v.cause.rawValue)\" "
        + "data-detail=\"\(v.detail.rawValue)\" data-conf=\"\(v.confidence.rawValue)\" data-search=\"\(escape(search))\">\n"
      out += "<tr class=\"verdict\" tabindex=\"0\"><td>\(Timestamp.format(v.time))</td><td>\(escape(v.operation ?? "–"))</td>"
        + "<td><code>\(escape(v.connectionId ?? "–"))</code></td>"
        + "<td><span class=\"chip\" style=\"background:\(color(v.cause))\"></span>\(v.cause.rawValue)</td>"
        + "<td>\(v.detail.rawValue)</td><td>\(v.confidence.rawValue)</td></tr>\n"
      out += "<tr class=\"evidence\" hidden><td colspan=\"6\"><p>\(escape(v.explanation))</p>"
      if let newer = v.newConnectionId { out += "<p>Newer connection: <code>\(escape(newer))</code></p>" }
      out += "<ol>"
      for e in v.evidence {
        let position = e.origin.line.map { ":\($0)" } ?? e.origin.record.map { ":record \($0)" } ?? ""
        let mark = e == v.recordedBy ? " class=\"recorded\"" : ""
        out += "<li\(mark)><span class=\"where\">\(escape(a.inputName(e.origin) ?? "?"))\(position) · "
          + "\(Timestamp.format(e.time))</span><pre>\(escape(e.text))</pre></li>"
      }
      out += "</ol></td></tr>\n</tbody>\n"
    }
    return out + "</table></section>\n"
  }

  static func inputTable(_ a: Analysis) -> String {
    var out = "<section><h2>Inputs</h2><table><thead><tr><th>Input</th><th>Format</th><th>Events</th>"
      + "<th>Unparsed</th></tr></thead><tbody>\n"
    for i in a.inputs {
      out += "<tr><td><code>\(escape(i.name))</code></td><td>\(i.format?.rawValue ?? "unreadable")"
        + "\(i.compressed ? " (gzip)" : "")</td><td>\(i.events)</td><td>\(i.unparsed)</td></tr>\n"
    }
    out += "</tbody></table>\n"
    if !a.diagnostics.isEmpty {
      out += "<details><summary>\(a.diagnostics.count) diagnostics</summary><ul>"
      for d in a.diagnostics { out += "<li><code>\(escape(d.description))</code></li>" }
      out += "</ul></details>\n"
    }
    return out + "</section>\n"
  }

  /// A stacked column per time bucket, one colour per cause.
  static func timeline(_ verdicts: VerdictList) -> String {
    let width = 900.0, height = 160.0, left = 36.0, bottom = 22.0
    let times = verdicts.map(\.time)
    let start = times.min()!, end = max(times.max()!, start + 1)
    let buckets = min(60, max(1, verdicts.count))
    let span = Double(end - start) / Double(buckets)
    var stacks = Array(repeating: [Cause: Int](), count: buckets)
    for v in verdicts {
      let i = min(buckets - 1, Int(Double(v.time - start) / span))
      stacks[i][v.cause, default: 0] += 1
    }
    let peak = max(1, stacks.map { $0.values.reduce(0, +) }.max()!)
    let plotW = width - left, plotH = height - bottom
    let barW = plotW / Double(buckets)
    var svg = "<svg class=\"timeline\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" "
      + "aria-label=\"410s by cause over time\">\n"
    svg += "<line x1=\"\(left)\" y1=\"\(plotH)\" x2=\"\(width)\" y2=\"\(plotH)\" class=\"axis\"/>\n"
    svg += "<text x=\"\(left - 6)\" y=\"12\" text-anchor=\"end\">\(peak)</text>"
      + "<text x=\"\(left - 6)\" y=\"\(plotH)\" text-anchor=\"end\">0</text>\n"
    for (i, stack) in stacks.enumerated() {
      var y = plotH
      for cause in Cause.allCases {
        guard let n = stack[cause] else { continue }
        let h = plotH * Double(n) / Double(peak)
        y -= h
        let from = Timestamp.format(start + EpochMillis(Double(i) * span))
        svg += "<rect x=\"\(fmt(left + Double(i) * barW + 1))\" y=\"\(fmt(y))\" width=\"\(fmt(max(1, barW - 2)))\" "
          + "height=\"\(fmt(h))\" fill=\"\(color(cause))\"><title>\(from): \(n) \(cause.rawValue)</title></rect>\n"
      }
    }
    svg += "<text x=\"\(left)\" y=\"\(height - 4)\">\(Timestamp.format(start))</text>"
      + "<text x=\"\(width)\" y=\"\(height - 4)\" text-anchor=\"end\">\(Timestamp.format(end))</text>\n"
    return svg + "</svg>\n"
  }

  /// Horizontal bars with their labels and counts.
  static func bars(_ rows: [(label: String, count: Int, color: String)]) -> String {
    let rowH = 24.0, labelW = 210.0, barMax = 220.0
    let peak = max(1, rows.map(\.count).max() ?? 1)
    var svg = "<svg class=\"bars\" viewBox=\"0 0 \(Int(labelW + barMax + 50)) \(Int(rowH * Double(rows.count) + 4))\" "
      + "role=\"img\">\n"
    for (i, row) in rows.enumerated() {
      let y = Double(i) * rowH + 2
      let w = barMax * Double(row.count) / Double(peak)
      svg += "<text x=\"\(fmt(labelW - 8))\" y=\"\(fmt(y + 16))\" text-anchor=\"end\">\(row.label)</text>"
        + "<rect x=\"\(fmt(labelW))\" y=\"\(fmt(y + 3))\" width=\"\(fmt(max(w, row.count > 0 ? 2 : 0)))\" height=\"16\" "
        + "fill=\"\(row.color)\"/><text x=\"\(fmt(labelW + w + 6))\" y=\"\(fmt(y + 16))\">\(row.count)</text>\n"
    }
    return svg + "</svg>\n"
  }

  static func legend() -> String {
    "<p class=\"legend\">" + Cause.allCases.map {
      "<span><span class=\"chip\" style=\"background:\(color($0))\"></span>\($0.rawValue)</span>"
    }.joined(separator: " ") + "</p>\n"
  }

  static func fmt(_ x: Double) -> String {
    let r = (x * 10).rounded() / 10
    return r == r.rounded() ? String(Int(r)) : String(r)
  }

  /// Colours told apart by most colour-blind readers (Okabe–Ito).
  static func color(_ cause: Cause) -> String {
    switch cause {
    case .preConnectPost: "#CC79A7"
    case .terminatedConnection: "#D55E00"
    case .reconnectWithOldId: "#0072B2"
    case .unknown: "#999999"
    }
  }

  static func escape(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.utf8.count)
    for c in s.unicodeScalars {
      switch c {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "'": out += "&#39;"
      default: out.unicodeScalars.append(c)
      }
    }
    return out
  }

  static let style = """
    :root{--fg:#1d1f23;--muted:#666;--line:#ddd;--bg:#fff;--zebra:#f6f7f9}
    @media (prefers-color-scheme:dark){:root{--fg:#e6e6e6;--muted:#9a9a9a;--line:#3a3d42;--bg:#17181b;--zebra:#202226}}
    body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;max-width:1100px;padding:20px}
    h1{font-size:22px;margin:0 0 4px}h1 .count{font-weight:400;color:var(--muted)}h2{font-size:16px;margin:24px 0 8px}
    .muted{color:var(--muted)}code,pre{font:12px/1.4 ui-monospace,Menlo,Consolas,monospace}
    .cards{display:flex;gap:12px;flex-wrap:wrap}.card{border-left:5px solid;padding:6px 14px;background:var(--zebra);min-width:150px}
    .card .n{font-size:24px;font-weight:600}
    svg{width:100%;height:auto;font-size:11px;fill:var(--fg)}svg .axis{stroke:var(--muted)}
    .charts{display:grid;grid-template-columns:1fr 1fr;gap:24px}
    .chip{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}
    .legend span{margin-right:14px}
    dt{font-weight:600;margin-top:6px}dd{margin:2px 0 0 16px}
    table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:top}
    #verdicts th{cursor:pointer;user-select:none}#verdicts th[aria-sort=ascending]::after{content:" ▲"}#verdicts th[aria-sort=descending]::after{content:" ▼"}
    tr.verdict{cursor:pointer}tr.verdict:hover{background:var(--zebra)}
    tr.evidence td{background:var(--zebra)}tr.evidence ol{margin:4px 0;padding-left:20px}
    tr.evidence pre{white-space:pre-wrap;word-break:break-all;margin:2px 0 8px}
    li.recorded .where{font-weight:600}.where{color:var(--muted);font-size:12px}
    .filters{margin-bottom:8px}.filters input{width:320px;padding:4px}
    """

  static let script = """
    (function(){
    var table=document.getElementById('verdicts');if(!table)return;
    var groups=Array.prototype.slice.call(table.tBodies);
    var q=document.getElementById('q'),cause=document.getElementById('cause'),shown=document.getElementById('shown');
    function filter(){var t=q.value.toLowerCase(),c=cause.value,n=0;
      groups.forEach(function(g){var ok=(!c||g.dataset.cause===c)&&(!t||g.dataset.search.indexOf(t)>=0);g.hidden=!ok;if(ok)n++;});
      shown.textContent=n+' of '+groups.length+' shown';}
    q.addEventListener('input',filter);cause.addEventListener('change',filter);filter();
    table.tHead.addEventListener('click',function(e){var th=e.target.closest('th');if(!th)return;
      var key=th.dataset.key,dir=th.getAttribute('aria-sort')==='ascending'?-1:1;
      Array.prototype.forEach.call(table.tHead.rows[0].cells,function(h){h.removeAttribute('aria-sort');});
      th.setAttribute('aria-sort',dir>0?'ascending':'descending');
      groups.sort(function(a,b){var x=a.dataset[key],y=b.dataset[key];
        if(key==='time'){x=+x;y=+y;}return x<y?-dir:x>y?dir:0;});
      groups.forEach(function(g){table.appendChild(g);});});
    table.addEventListener('click',function(e){var row=e.target.closest('tr.verdict');if(!row)return;
      var ev=row.nextElementSibling;ev.hidden=!ev.hidden;});
    table.addEventListener('keydown',function(e){if(e.key==='Enter'){var row=e.target.closest('tr.verdict');
      if(row){row.nextElementSibling.hidden=!row.nextElementSibling.hidden;}}});
    })();
    """
}

package parity

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"sort"
)

// WriteJSON writes the report (schema 1: see Report's fields).
func WriteJSON(w io.Writer, rep *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

type pathCount struct {
	Path  string
	Count int
}

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct": func(n, total int) float64 {
		if total == 0 {
			return 0
		}
		return float64(n) * 100 / float64(total)
	},
	"pretty": func(raw json.RawMessage) string {
		if len(raw) == 0 {
			return "(absent)"
		}
		var v any
		if json.Unmarshal(raw, &v) != nil {
			return string(raw)
		}
		b, _ := json.MarshalIndent(v, "", "  ")
		return string(b)
	},
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Parity {{.R.Type}}: {{if .R.Passed}}PASS{{else}}FAIL{{end}}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2rem;max-width:1200px;color:#222}
.verdict{font-size:1.6rem;font-weight:700;padding:.5rem 1rem;display:inline-block;border-radius:6px;color:#fff}
.pass{background:#1a7f37}.fail{background:#cf222e}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}
.bar{display:flex;height:28px;width:100%;border:1px solid #999;margin:1rem 0}
.bar div{height:100%}.m{background:#1a7f37}.x{background:#cf222e}.l{background:#bf8700}.f{background:#8250df}.u{background:#57606a}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:1rem}pre{background:#f6f8fa;padding:.6rem;overflow:auto;max-height:360px;font-size:12px}
.note{color:#555}
</style></head><body>
<h1>Parity report: {{.R.Type}}</h1>
<p><span class="verdict {{if .R.Passed}}pass{{else}}fail{{end}}">{{if .R.Passed}}PASS{{else}}FAIL{{end}}</span>
 report {{.R.ID}} · threshold {{.ThresholdPct}}% matching · compared {{.R.Started.Format "2006-01-02 15:04:05Z07:00"}} – {{.R.Finished.Format "15:04:05Z07:00"}}</p>
<div class="bar" title="matching / mismatched / only in legacy / only in FHIR / unmappable">
<div class="m" style="width:{{pct .R.Counts.Matching .Total}}%"></div><div class="x" style="width:{{pct .R.Counts.Mismatched .Total}}%"></div>
<div class="l" style="width:{{pct .R.Counts.OnlyLegacy .Total}}%"></div><div class="f" style="width:{{pct .R.Counts.OnlyFHIR .Total}}%"></div>
<div class="u" style="width:{{pct .R.Counts.Unmappable .Total}}%"></div></div>
<table><tr><th>legacy rows</th><th>FHIR resources</th><th>matching</th><th>mismatched</th><th>only in legacy</th><th>only in FHIR</th><th>legacy rows that cannot be mapped</th></tr>
<tr><td>{{.R.Counts.Legacy}}</td><td>{{.R.Counts.FHIR}}</td><td>{{.R.Counts.Matching}}</td><td>{{.R.Counts.Mismatched}}</td><td>{{.R.Counts.OnlyLegacy}}</td><td>{{.R.Counts.OnlyFHIR}}</td><td>{{.R.Counts.Unmappable}}</td></tr></table>
<h2>Element paths that differ most</h2>
{{if .Paths}}<table><tr><th>path</th><th>resources</th></tr>{{range .Paths}}<tr><td><code>{{.Path}}</code></td><td>{{.Count}}</td></tr>{{end}}</table>{{else}}<p>None.</p>{{end}}
<h2>Samples</h2>
{{range .R.Samples}}<h3>{{$.R.Type}}/{{.ID}} — {{.Kind}}{{if .Paths}}: <code>{{range $i, $p := .Paths}}{{if $i}}, {{end}}{{$p}}{{end}}</code>{{end}}</h3>
{{if .Reason}}<p>{{.Reason}}</p>{{end}}
<div class="pair"><div><b>legacy (mapped)</b><pre>{{pretty .Legacy}}</pre></div><div><b>FHIR server</b><pre>{{pretty .FHIR}}</pre></div></div>
{{else}}<p>None.</p>{{end}}
<h2>Shadow route: recent online mismatches</h2>
{{if .R.Shadow}}<ul>{{range .R.Shadow}}<li><code>{{.}}</code></li>{{end}}</ul>{{else}}<p>None recorded.</p>{{end}}
<h2>Parameters</h2>
<p>Ignored paths: {{range $i, $p := .R.Ignored}}{{if $i}}, {{end}}<code>{{$p}}</code>{{end}}. Normalisation: {{range $i, $p := .R.Normalised}}{{if $i}}; {{end}}{{$p}}{{end}}.</p>
<p class="note">This page holds patient data from the samples: handle it as PHI.</p>
</body></html>
`))

// WriteHTML writes one self-contained page a reviewer can read without tools.
func WriteHTML(w io.Writer, rep *Report) error {
	var paths []pathCount
	for p, n := range rep.Paths {
		paths = append(paths, pathCount{p, n})
	}
	sort.Slice(paths, func(i, j int) bool {
		if paths[i].Count != paths[j].Count {
			return paths[i].Count > paths[j].Count
		}
		return paths[i].Path < paths[j].Path
	})
	c := rep.Counts
	total := c.Matching + c.Mismatched + c.OnlyLegacy + c.OnlyFHIR + c.Unmappable
	return page.Execute(w, map[string]any{"R": rep, "Paths": paths, "Total": total, "ThresholdPct": fmt.Sprintf("%.1f", rep.Threshold*100)})
}

package facade

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/fhirfacade/fhirfacade/backend"
)

// bundle writes a searchset (or history) Bundle around raw resource JSON without
// re-encoding the resources.
type bundle struct {
	typ     string // Bundle.type
	base    string
	buf     []byte
	links   []byte
	entries int
	total   *int
}

func newBundle(base string, total *int, size int) *bundle {
	return newBundleOf("searchset", base, total, size)
}

// newBundleOf is a Bundle of another type (history).
func newBundleOf(typ, base string, total *int, size int) *bundle {
	return &bundle{typ: typ, base: base, total: total, buf: make([]byte, 0, size)}
}

func (b *bundle) link(rel, url string) {
	if len(b.links) > 0 {
		b.links = append(b.links, ',')
	}
	rb, ub := jsonString(rel), jsonString(url)
	b.links = append(b.links, `{"relation":`...)
	b.links = append(b.links, rb...)
	b.links = append(b.links, `,"url":`...)
	b.links = append(b.links, ub...)
	b.links = append(b.links, '}')
}

func (b *bundle) entry(r *backend.Resource, mode string) {
	if b.entries > 0 {
		b.buf = append(b.buf, ',')
	}
	b.entries++
	fu := jsonString(b.base + "/" + r.Type + "/" + r.ID)
	b.buf = append(b.buf, `{"fullUrl":`...)
	b.buf = append(b.buf, fu...)
	b.buf = append(b.buf, `,"resource":`...)
	b.buf = append(b.buf, r.JSON...)
	b.buf = append(b.buf, `,"search":{"mode":"`...)
	b.buf = append(b.buf, mode...)
	b.buf = append(b.buf, `"}}`...)
}

// warnings adds one OperationOutcome entry (mode outcome) holding each
// warning as an issue; none when there are none.
func (b *bundle) warnings(ws []string) {
	if len(ws) == 0 {
		return
	}
	oo := &Outcome{ResourceType: "OperationOutcome"}
	for _, w := range ws {
		oo.Issue = append(oo.Issue, Issue{Severity: "warning", Code: "not-supported", Diagnostics: w})
	}
	raw, _ := json.Marshal(oo)
	b.outcome(raw)
}

func (b *bundle) outcome(raw []byte) {
	if b.entries > 0 {
		b.buf = append(b.buf, ',')
	}
	b.entries++
	b.buf = append(b.buf, `{"resource":`...)
	b.buf = append(b.buf, raw...)
	b.buf = append(b.buf, `,"search":{"mode":"outcome"}}`...)
}

func (b *bundle) bytes() []byte {
	out := make([]byte, 0, len(b.buf)+len(b.links)+128)
	out = append(out, `{"resourceType":"Bundle","type":`...)
	out = append(out, jsonString(b.typ)...)
	if b.total != nil {
		out = append(out, `,"total":`...)
		out = strconv.AppendInt(out, int64(*b.total), 10)
	}
	if len(b.links) > 0 {
		out = append(out, `,"link":[`...)
		out = append(out, b.links...)
		out = append(out, ']')
	}
	if b.entries > 0 {
		out = append(out, `,"entry":[`...)
		out = append(out, b.buf...)
		out = append(out, ']')
	}
	return append(out, '}')
}

// jsonString encodes s as a JSON string without HTML escaping (links keep
// their & as is).
func jsonString(s string) []byte {
	if plainJSON(s) {
		// the common case (URLs, ids, codes): nothing to escape, so the
		// quoted bytes are the same as the encoder's, without its buffer
		// and reflection (once per Bundle entry and link)
		out := make([]byte, 0, len(s)+2)
		out = append(out, '"')
		out = append(out, s...)
		return append(out, '"')
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return bytes.TrimRight(buf.Bytes(), "\n")
}

// plainJSON reports whether s is printable ASCII without '"' or '\\': a
// JSON string needs no escape for any of it.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

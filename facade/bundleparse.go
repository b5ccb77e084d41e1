package facade

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// maxEntries is the most entries a batch or transaction may hold (Azure
// Health Data Services' limit, which the consumers moving there expect).
const maxEntries = 500

// entry is one request of a batch or transaction Bundle.
type entry struct {
	index    int
	method   string
	url      string // relative to the base, without a leading slash
	typ      string // the resource type the url names
	fullURL  string
	resource map[string]any
	// headers are the entry's request.ifNoneExist and friends as the HTTP
	// headers they stand for
	headers map[string]string
}

// methodRank is the order a transaction processes its entries in (R4
// http.html#trules: DELETE, then POST, then PUT/PATCH, then GET); it is
// also the set of methods an entry may use.
var methodRank = map[string]int{
	http.MethodDelete: 0, http.MethodPost: 1, http.MethodPut: 2, http.MethodPatch: 2, http.MethodGet: 3,
}

// entryHeaders maps Bundle.entry.request elements to their HTTP headers.
var entryHeaders = map[string]string{
	"ifNoneExist": "If-None-Exist", "ifMatch": "If-Match", "ifNoneMatch": "If-None-Match", "ifModifiedSince": "If-Modified-Since",
}

// bundleErr is a 400 about one element of the posted Bundle.
func bundleErr(path, format string, args ...any) *HTTPError {
	return &HTTPError{Status: 400, Code: "invalid", Msg: path + ": " + fmt.Sprintf(format, args...), Path: path}
}

// parseEntries reads the entries of a batch or transaction Bundle.
func (s *Server) parseEntries(b map[string]any) ([]*entry, error) {
	raw, _ := b["entry"].([]any)
	if len(raw) > maxEntries {
		return nil, httpErr(413, "too-costly", fmt.Sprintf("the Bundle has %d entries; at most %d are accepted", len(raw), maxEntries))
	}
	out := make([]*entry, 0, len(raw))
	seen := map[string]int{}
	for i, r := range raw {
		e, err := s.parseEntry(i, r)
		if err != nil {
			return nil, err
		}
		// R4 bdl-7: fullUrls are unique (a urn:uuid given twice would
		// make every reference to it point at whichever entry ran last)
		if first, dup := seen[e.fullURL]; dup && e.fullURL != "" {
			return nil, bundleErr(fmt.Sprintf("Bundle.entry[%d].fullUrl", i), "%q is the fullUrl of entry %d too; each entry needs its own", e.fullURL, first)
		}
		seen[e.fullURL] = i
		out = append(out, e)
	}
	return out, nil
}

func (s *Server) parseEntry(i int, raw any) (*entry, error) {
	path := fmt.Sprintf("Bundle.entry[%d]", i)
	m, _ := raw.(map[string]any)
	req, _ := m["request"].(map[string]any)
	if req == nil {
		return nil, bundleErr(path+".request", "every entry of a batch or transaction needs a request")
	}
	e := &entry{index: i, headers: map[string]string{}}
	e.method, _ = req["method"].(string)
	if _, ok := methodRank[e.method]; !ok {
		return nil, bundleErr(path+".request.method", "%q is not a method a batch or transaction entry may use (GET, POST, PUT, PATCH, DELETE)", e.method)
	}
	u, _ := req["url"].(string)
	rel, err := s.relativeURL(u)
	if err != nil {
		return nil, bundleErr(path+".request.url", "%s", err.Error())
	}
	e.url = rel
	e.typ, _, _ = strings.Cut(strings.SplitN(rel, "?", 2)[0], "/")
	e.fullURL, _ = m["fullUrl"].(string)
	e.resource, _ = m["resource"].(map[string]any)
	if (e.method == http.MethodPost || e.method == http.MethodPut) && e.resource == nil {
		return nil, bundleErr(path+".resource", "a %s entry needs a resource", e.method)
	}
	for el, h := range entryHeaders {
		if v, ok := req[el].(string); ok {
			e.headers[h] = v
		}
	}
	return e, nil
}

// relativeURL is an entry's request.url relative to the base: a relative
// URL as it is, an absolute one only under this server's base. Dot
// segments are refused: a sub-request stays under the FHIR base.
func (s *Server) relativeURL(u string) (string, error) {
	if strings.HasPrefix(u, s.baseURL+"/") {
		u = strings.TrimPrefix(u, s.baseURL+"/")
	} else if strings.Contains(u, "://") {
		return "", fmt.Errorf("an absolute URL must be under this server's base %s", s.baseURL)
	}
	u = strings.TrimPrefix(u, "/")
	p := strings.SplitN(u, "?", 2)[0]
	if dec, err := url.PathUnescape(p); err == nil {
		p = dec
	}
	if p == "" {
		return "", fmt.Errorf("names no resource type")
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." || seg == "" {
			return "", fmt.Errorf("%q is not a relative URL under the FHIR base", u)
		}
	}
	return u, nil
}

// Command gensearchparams derives catalog's compact table of R4 search
// parameters from the R4 SearchParameter Bundle (2 MB, not embedded):
// one row per base type and parameter with its type, its targets and, where
// the FHIRPath expression for that base is a plain element path, that path.
//
//	go run ./internal/gensearchparams IN.json OUT.tsv   (from catalog/: go generate)
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/fhirfacade/fhirfacade/catalog/internal/genmain"
)

func main() { genmain.Run("gensearchparams search-parameters.json out.tsv", generate) }

// header opens the table; the source is named in catalog/SOURCES.txt.
const header = `# R4 search parameters, derived from the FHIR R4 SearchParameter Bundle
# (../shared/reference/fhir-r4/search-parameters.json; see SOURCES.txt) by
# catalog/internal/gensearchparams. Do not edit: run go generate ./catalog.
# base	name	type	targets	path
# (targets "*": every resource type)
`

type definition struct {
	Code       string   `json:"code"`
	Base       []string `json:"base"`
	Type       string   `json:"type"`
	Target     []string `json:"target"`
	Expression string   `json:"expression"`
}

// generate renders the table, sorted by base type and name.
func generate(raw []byte) ([]byte, error) {
	var b struct {
		ResourceType string `json:"resourceType"`
		Entry        []struct {
			Resource definition `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, err
	}
	if b.ResourceType != "Bundle" || len(b.Entry) == 0 {
		return nil, fmt.Errorf("not a SearchParameter Bundle")
	}
	// the widest target list is "any resource": written as *
	var any []string
	for _, e := range b.Entry {
		if len(e.Resource.Target) > len(any) {
			any = e.Resource.Target
		}
	}
	var rows []string
	for _, e := range b.Entry {
		d := e.Resource
		for _, base := range d.Base {
			if !name.MatchString(base) || strings.ContainsAny(d.Code, "\t\n") {
				return nil, fmt.Errorf("search parameter %q: unexpected base %q", d.Code, base)
			}
			path, target := pathFor(d.Expression, base)
			targets := append([]string(nil), d.Target...)
			switch {
			case target != "":
				targets = []string{target}
			case sameSet(targets, any):
				targets = []string{"*"}
			}
			sort.Strings(targets)
			rows = append(rows, strings.Join([]string{base, d.Code, d.Type, strings.Join(targets, ","), path}, "\t"))
		}
	}
	sort.Strings(rows)
	var out bytes.Buffer
	out.WriteString(header)
	for _, r := range rows {
		out.WriteString(r)
		out.WriteByte('\n')
	}
	return out.Bytes(), nil
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]bool{}
	for _, x := range a {
		seen[x] = true
	}
	for _, x := range b {
		if !seen[x] {
			return false
		}
	}
	return true
}

var (
	name = regexp.MustCompile(`^[A-Z][A-Za-z]*$`)
	// plain is a dotted path of element names
	plain = regexp.MustCompile(`^[a-z][A-Za-z0-9]*(\.[a-z][A-Za-z0-9]*)*$`)
	// resolveIs narrows a reference to one target type
	resolveIs = regexp.MustCompile(`^(.*)\.where\(resolve\(\) is ([A-Z][A-Za-z]*)\)$`)
	// asReference picks the Reference of a choice element (medication[x]
	// as Reference is the JSON element medicationReference)
	asReference = regexp.MustCompile(`^(.+?)(?: as Reference|\.as\(Reference\)|\.ofType\(Reference\))$`)
)

// pathFor reads the part of a FHIRPath expression that applies to base:
// its element path when that part is a plain path, optionally narrowed by
// .where(resolve() is T) (which also gives the one target T), or the
// Reference of a choice element (x as Reference: the JSON element
// xReference). A base with no part, or with several, gets no path.
func pathFor(expr, base string) (path, target string) {
	var parts []string
	for _, p := range strings.Split(expr, "|") {
		p = strings.TrimSpace(p)
		if strings.HasPrefix(p, "(") && strings.HasSuffix(p, ")") {
			p = strings.TrimSpace(p[1 : len(p)-1])
		}
		if rest, ok := strings.CutPrefix(p, base+"."); ok {
			parts = append(parts, rest)
		}
	}
	if len(parts) != 1 {
		return "", ""
	}
	rest := parts[0]
	if m := resolveIs.FindStringSubmatch(rest); m != nil {
		rest, target = m[1], m[2]
	}
	if m := asReference.FindStringSubmatch(rest); m != nil {
		rest = m[1] + "Reference"
	}
	if !plain.MatchString(rest) {
		return "", target
	}
	return rest, target
}

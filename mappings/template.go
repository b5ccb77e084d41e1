package mappings

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

type nodeKind int

const (
	kObject nodeKind = iota
	kArray
	kLiteral
	kExpr   // a whole value from one expression
	kInterp // a string with literal text around one expression
)

// node is one compiled template element.
type node struct {
	kind    nodeKind
	path    string // FHIR path, for errors ("Patient.name[0].family")
	keys    []string
	kids    []*node
	lit     []byte // literal: its JSON
	litVal  any    // literal: its decoded value, for write-back checks
	expr    *expr
	interp  *interp
	dynamic bool // has an expression somewhere below
	// when (an object's "$when": "{{col}}") leaves the object out unless
	// its value is present and not false ("N", "0", false): an explicit
	// condition where the object's own columns do not say it
	when *expr
}

// expr is a {{col, col | transform:arg | derived}} expression.
type expr struct {
	refs    []string // qualified columns
	cols    []int    // their select-list positions
	tr      *transform
	derived bool // output only: ignored on write-back
	path    string
	// def stands for a NULL column value (| default:TEXT): a legacy
	// schema's "NULL means the usual"
	def *string
}

// interp is literal text around one or more expressions
// ("Patient/{{pat_id}}", "{{[Name Prefix]}} {{FirstName}} {{LastName}}").
// mids are the literals between the expressions (one fewer than exprs).
type interp struct {
	prefix, suffix string
	exprs          []*expr
	mids           []string
}

type compiler struct {
	s       *Spec
	aliases map[string]bool
}

var exprRE = regexp.MustCompile(`\{\{([^{}]*)\}\}`)

func (c *compiler) node(n *yaml.Node, path string) (*node, error) {
	switch n.Kind {
	case yaml.MappingNode:
		out := &node{kind: kObject, path: path}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			if k == "$when" {
				w, err := c.when(n.Content[i+1], path)
				if err != nil {
					return nil, err
				}
				out.when, out.dynamic = w, true
				continue
			}
			kid, err := c.node(n.Content[i+1], path+"."+strings.TrimSuffix(k, "[x]"))
			if err != nil {
				return nil, err
			}
			if strings.HasSuffix(k, "[x]") && (kid.kind != kExpr || !kid.expr.tr.choice) {
				return nil, fmt.Errorf("%s: a choice element needs a choice transform (deceased, labvalue)", path+"."+k)
			}
			out.keys = append(out.keys, k)
			out.kids = append(out.kids, kid)
			out.dynamic = out.dynamic || kid.dynamic
		}
		return out, nil
	case yaml.SequenceNode:
		out := &node{kind: kArray, path: path}
		for i, item := range n.Content {
			kid, err := c.node(item, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			out.kids = append(out.kids, kid)
			out.dynamic = out.dynamic || kid.dynamic
		}
		return out, nil
	case yaml.ScalarNode:
		if n.Tag == "!!str" || n.Style != 0 {
			if exprRE.MatchString(n.Value) {
				it, err := c.interp(n.Value, path)
				if err != nil {
					return nil, err
				}
				if it.prefix == "" && it.suffix == "" && len(it.exprs) == 1 {
					return &node{kind: kExpr, path: path, expr: it.exprs[0], dynamic: true}, nil
				}
				for _, x := range it.exprs {
					if x.tr.text == nil {
						return nil, fmt.Errorf("%s: transform %s cannot be used inside text", path, x.tr.name)
					}
				}
				return &node{kind: kInterp, path: path, interp: it, dynamic: true}, nil
			}
		}
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		var back any
		_ = json.Unmarshal(b, &back)
		return &node{kind: kLiteral, path: path, lit: b, litVal: back}, nil
	}
	return nil, fmt.Errorf("%s: unsupported YAML node", path)
}

func (c *compiler) interp(s, path string) (*interp, error) {
	locs := exprRE.FindAllStringSubmatchIndex(s, -1)
	if len(locs) == 0 {
		return nil, fmt.Errorf("%s: no {{...}} expression in %q", path, s)
	}
	it := &interp{prefix: s[:locs[0][0]], suffix: s[locs[len(locs)-1][1]:]}
	for i, l := range locs {
		e, err := c.expr(s[l[2]:l[3]], path)
		if err != nil {
			return nil, err
		}
		it.exprs = append(it.exprs, e)
		if i > 0 {
			it.mids = append(it.mids, s[locs[i-1][1]:l[0]])
		}
	}
	if len(it.exprs) > 1 {
		// several values in one string are written back by splitting it at
		// the literals between them: each needs one (or all are derived)
		for i, m := range it.mids {
			if m == "" && !(it.exprs[i].derived && it.exprs[i+1].derived) {
				return nil, fmt.Errorf("%s: {{...}}{{...}} with nothing between them cannot be split on write-back (mark them | derived, or put text between)", path)
			}
		}
	}
	return it, nil
}

func (c *compiler) expr(src, path string) (*expr, error) {
	parts := strings.Split(src, "|")
	e := &expr{path: path}
	for _, col := range strings.Split(parts[0], ",") {
		col = strings.TrimSpace(col)
		ref, err := c.s.ref(col)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		e.refs = append(e.refs, ref)
		e.cols = append(e.cols, c.s.col(ref))
		if _, ok := c.s.colPaths[ref]; !ok {
			c.s.colPaths[ref] = path
		}
	}
	trName, arg := "", ""
	for _, p := range parts[1:] {
		p = strings.TrimSpace(p)
		if p == "derived" {
			e.derived = true
			continue
		}
		if v, ok := strings.CutPrefix(p, "default:"); ok {
			if len(e.refs) != 1 {
				return nil, fmt.Errorf("%s: default applies to an expression over one column", path)
			}
			v = strings.TrimSpace(v)
			e.def = &v
			continue
		}
		if trName != "" {
			return nil, fmt.Errorf("%s: more than one transform", path)
		}
		trName, arg, _ = strings.Cut(p, ":")
		if trName == "" {
			return nil, fmt.Errorf("%s: empty transform", path)
		}
	}
	tr, err := newTransform(c.s, trName, arg)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if tr.arity != len(e.cols) {
		return nil, fmt.Errorf("%s: transform %q takes %d column(s), got %d", path, tr.name, tr.arity, len(e.cols))
	}
	e.tr = tr
	return e, nil
}

// when compiles an object's "$when": one expression, output only.
func (c *compiler) when(n *yaml.Node, path string) (*expr, error) {
	m := exprRE.FindStringSubmatchIndex(n.Value)
	if n.Kind != yaml.ScalarNode || m == nil || m[0] != 0 || m[1] != len(n.Value) {
		return nil, fmt.Errorf("%s.$when: want one {{...}} expression", path)
	}
	x, err := c.expr(n.Value[m[2]:m[3]], path+".$when")
	if err != nil {
		return nil, err
	}
	if x.tr.text == nil {
		return nil, fmt.Errorf("%s.$when: transform %s cannot be tested", path, x.tr.name)
	}
	x.derived = true // a condition is never written back
	return x, nil
}

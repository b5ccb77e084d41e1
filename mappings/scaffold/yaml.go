package scaffold

import (
	"bytes"
	"strings"

	"gopkg.in/yaml.v3"
)

// omap is a YAML mapping that keeps the order its keys were set in (FHIR
// element order, the order of the spec's fields) and a comment per key.
type omap struct {
	keys     []string
	vals     map[string]any // string, *omap or []any
	comments map[string]string
	notes    map[string]string // line comments
	flow     bool
}

func newMap() *omap {
	return &omap{vals: map[string]any{}, comments: map[string]string{}, notes: map[string]string{}}
}

func flowMap() *omap { m := newMap(); m.flow = true; return m }

// set puts key (last in order if new).
func (m *omap) set(k string, v any) *omap {
	if _, ok := m.vals[k]; !ok {
		m.keys = append(m.keys, k)
	}
	m.vals[k] = v
	return m
}

// sub is the mapping under k, created if absent.
func (m *omap) sub(k string) *omap {
	if s, ok := m.vals[k].(*omap); ok {
		return s
	}
	s := newMap()
	m.set(k, s)
	return s
}

// add appends v to the list under k.
func (m *omap) add(k string, v any) {
	l, _ := m.vals[k].([]any)
	m.set(k, append(l, v))
}

// first is the first mapping of the list under k, created if absent.
func (m *omap) first(k string) *omap {
	if l, ok := m.vals[k].([]any); ok && len(l) > 0 {
		if s, ok := l[0].(*omap); ok {
			return s
		}
	}
	s := newMap()
	m.add(k, s)
	return s
}

// kv builds a mapping from alternating keys and values.
func kv(flow bool, pairs ...any) *omap {
	m := newMap()
	m.flow = flow
	for i := 0; i+1 < len(pairs); i += 2 {
		m.set(pairs[i].(string), pairs[i+1])
	}
	return m
}

func (m *omap) node() *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	if m.flow {
		n.Style = yaml.FlowStyle
	}
	for _, k := range m.keys {
		kn := scalar(k)
		kn.HeadComment = m.comments[k]
		vn := toNode(m.vals[k], m.flow)
		if c := m.notes[k]; c != "" {
			if vn.Kind == yaml.ScalarNode || vn.Style == yaml.FlowStyle {
				vn.LineComment = c
			} else {
				kn.LineComment = c
			}
		}
		n.Content = append(n.Content, kn, vn)
	}
	return n
}

func toNode(v any, flow bool) *yaml.Node {
	switch x := v.(type) {
	case *omap:
		if flow {
			x.flow = true
		}
		return x.node()
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		if flow {
			n.Style = yaml.FlowStyle
		}
		for _, e := range x {
			n.Content = append(n.Content, toNode(e, flow))
		}
		return n
	}
	return scalar(v.(string))
}

// scalar is a string; a template expression is double-quoted, as the
// shipped specs write them.
func scalar(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	if strings.Contains(s, "{{") {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

// render writes m as a YAML document with a head comment.
func render(head string, m *omap) ([]byte, error) {
	doc := &yaml.Node{Kind: yaml.DocumentNode, HeadComment: head, Content: []*yaml.Node{m.node()}}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

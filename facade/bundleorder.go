package facade

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// urnPrefix starts the fullUrl of a resource the Bundle creates: it stands
// for the resource until the server has given it an id.
const urnPrefix = "urn:uuid:"

// processingOrder is the order a transaction runs its entries in: by
// method (methodRank), and the creates among themselves so that one whose
// resource refers to another create's urn:uuid runs after it (otherwise
// in Bundle order). A cycle of such references cannot be created and is
// refused.
func processingOrder(entries []*entry) ([]int, error) {
	order := make([]int, len(entries))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		return methodRank[entries[order[a]].method] < methodRank[entries[order[b]].method]
	})
	creates := map[string]int{} // urn fullUrl -> entry
	for _, e := range entries {
		if e.method == http.MethodPost && strings.HasPrefix(e.fullURL, urnPrefix) {
			creates[e.fullURL] = e.index
		}
	}
	var posts []int
	for _, i := range order {
		if entries[i].method == http.MethodPost {
			posts = append(posts, i)
		}
	}
	sorted, err := byDependency(entries, posts, creates)
	if err != nil {
		return nil, err
	}
	// the creates occupy one contiguous run of order: put them back sorted
	for k, i := range order {
		if entries[i].method == http.MethodPost {
			copy(order[k:], sorted)
			break
		}
	}
	return order, nil
}

// byDependency orders the create entries posts so that each comes after
// the creates whose urn:uuid its resource refers to.
func byDependency(entries []*entry, posts []int, creates map[string]int) ([]int, error) {
	deps := map[int][]int{}
	for _, i := range posts {
		for _, ref := range urnRefs(entries[i].resource, nil) {
			if j, ok := creates[ref]; ok && j != i {
				deps[i] = append(deps[i], j)
			}
		}
	}
	placed := map[int]bool{}
	out := make([]int, 0, len(posts))
	for len(out) < len(posts) {
		progress := false
		for _, i := range posts {
			if placed[i] || !all(deps[i], placed) {
				continue
			}
			placed[i], progress = true, true
			out = append(out, i)
		}
		if !progress {
			var stuck []string
			for _, i := range posts {
				if !placed[i] {
					stuck = append(stuck, fmt.Sprintf("entry[%d]", i))
				}
			}
			return nil, httpErr(400, "invalid", "Bundle: the resources of "+strings.Join(stuck, ", ")+" refer to each other's urn:uuid in a cycle; none can be created first")
		}
	}
	return out, nil
}

func all(is []int, set map[int]bool) bool {
	for _, i := range is {
		if !set[i] {
			return false
		}
	}
	return true
}

// urnRefs appends the urn:uuid references anywhere in v to out.
func urnRefs(v any, out []string) []string {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && k == "reference" && strings.HasPrefix(s, urnPrefix) {
				out = append(out, s)
				continue
			}
			out = urnRefs(e, out)
		}
	case []any:
		for _, e := range x {
			out = urnRefs(e, out)
		}
	}
	return out
}

// resolveRefs is a copy of v with every Reference.reference that is a
// resolved urn:uuid replaced by the Type/id it stands for (v itself is
// left alone: a transaction that runs again starts from it). unresolved
// collects the urn:uuid references left.
func resolveRefs(v any, urns map[string]string, unresolved *[]string) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			if s, ok := e.(string); ok && k == "reference" && strings.HasPrefix(s, urnPrefix) {
				if to, ok := urns[s]; ok {
					m[k] = to
					continue
				}
				*unresolved = append(*unresolved, s)
			}
			m[k] = resolveRefs(e, urns, unresolved)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = resolveRefs(e, urns, unresolved)
		}
		return s
	}
	return v
}

// resolveURL replaces the resolved urn:uuids in an entry's request.url
// (a search or conditional URL may name one).
func resolveURL(u string, urns map[string]string) string {
	if !strings.Contains(u, urnPrefix) {
		return u
	}
	for urn, to := range urns {
		u = strings.ReplaceAll(u, urn, to)
	}
	return u
}

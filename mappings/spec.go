// Package mappings holds the declarative row<->resource specs (embedded YAML,
// one per resource type, replaceable by a folder) and the engine that reads
// them: rows to FHIR JSON, FHIR JSON back to column values, and FHIR search
// parameters to parameterised SQL for each dialect.
package mappings

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/fhirfacade/fhirfacade/sqldb"
	"gopkg.in/yaml.v3"
)

//go:embed specs/*.yaml specs_ehr/*.yaml
var embedded embed.FS

// ErrSpec marks a mapping spec that cannot be used; the message names the
// file and the field.
var ErrSpec = errors.New("invalid mapping spec")

// Spec is one resource type's mapping, as written in YAML.
type Spec struct {
	ResourceType string `yaml:"resourceType"`
	Table        string `yaml:"table"`
	// Query, instead of Table, is a read-only "logical table" (R2RML's
	// term): a SELECT whose result the spec maps, as a view would be
	Query string `yaml:"query"`
	Key   string `yaml:"key"`
	// Keys, instead of Key, is a composite key: the id template names
	// them in order with text between ({{SiteCode}}-{{MRN}}), read-only
	Keys        []string              `yaml:"keys"`
	ID          string                `yaml:"id"`
	LastUpdated string                `yaml:"lastUpdated"`
	Timezone    string                `yaml:"timezone"`
	Joins       []Join                `yaml:"joins"`
	Ignore      map[string]string     `yaml:"ignore"`
	CodeMaps    map[string]yaml.Node  `yaml:"codeMaps"`
	Template    yaml.Node             `yaml:"template"`
	Search      map[string]SearchSpec `yaml:"search"`
	WriteBack   WriteBack             `yaml:"writeBack"`

	file string
	// compiled
	loc      *time.Location
	maps     map[string]*codeMap
	root     *node
	idTmpl   *interp
	keyTmpl  *interp        // a composite key's id template over its columns
	cols     []string       // select list, "alias.col"
	colIndex map[string]int // "alias.col" -> position in cols
	keyIdx   int
	updIdx   int
	params   map[string]*param
	colPaths map[string]string // "alias.col" -> first FHIR path that writes it
	tables   map[string]tableName

	// bound to a live database (Bind)
	live      map[string]sqldb.Column // "alias.col" -> its live column
	d         sqldb.Dialect           // the dialect SQL was rendered for
	colSQL    map[string]string       // "alias.col" -> SQL, for d
	selectSQL string
	fromSQL   string
	norm      []normalizer // per select-list column
}

// Join is a lookup table joined to the main table (LEFT JOIN alias ON
// alias.key = t.on). On write, the main table's `on` column is resolved from
// the joined table by the column named in resolveBy.
type Join struct {
	Alias     string `yaml:"alias"`
	Table     string `yaml:"table"`
	Key       string `yaml:"key"`
	On        string `yaml:"on"`
	ResolveBy string `yaml:"resolveBy"`
}

// SearchSpec says how one search parameter translates to columns.
type SearchSpec struct {
	Type       string       `yaml:"type"` // token, string, date, reference, quantity
	Column     string       `yaml:"column"`
	Columns    []string     `yaml:"columns"`
	Period     []string     `yaml:"period"` // date: [start, end] columns
	Codings    []CodingSpec `yaml:"codings"`
	Constant   *CodingSpec  `yaml:"constant"` // token: every row has this coding
	Target     string       `yaml:"target"`   // reference: target type
	Path       string       `yaml:"path"`     // reference: element holding it (for _include)
	UnitColumn string       `yaml:"unitColumn"`
	Map        string       `yaml:"map"` // string: the code map its columns' values go through
}

// CodingSpec is one system a token parameter matches, its column and an
// optional code map (FHIR code -> legacy codes). SystemColumn, instead of
// System, names the column holding each row's system (an identifier whose
// system varies by row: CLIA, NAIC, TIN in one column pair).
type CodingSpec struct {
	System       string `yaml:"system"`
	SystemColumn string `yaml:"systemColumn"`
	Column       string `yaml:"column"`
	Map          string `yaml:"map"`
	Code         string `yaml:"code"` // constant only
}

// WriteBack says which interactions may write to legacy and how.
type WriteBack struct {
	Create         bool              `yaml:"create"`
	Update         bool              `yaml:"update"`
	UpdateAsCreate bool              `yaml:"updateAsCreate"`
	Delete         bool              `yaml:"delete"`
	Required       []string          `yaml:"required"`
	Defaults       map[string]string `yaml:"defaults"`
}

// fhirTypeRE is a resource type name.
var fhirTypeRE = regexp.MustCompile(`^[A-Z][A-Za-z]{1,63}$`)

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// Registry is the set of compiled specs, by resource type.
type Registry struct {
	specs map[string]*Spec
	types []string
}

// LoadEmbedded compiles the specs shipped in the binary.
func LoadEmbedded() (*Registry, error) {
	sub, err := fs.Sub(embedded, "specs")
	if err != nil {
		return nil, err
	}
	return Load(sub)
}

// LoadEmbeddedEHR compiles the shipped specs of the second demo schema
// (SQL Server EHR style, migrations/legacy_ehr): what a migration engineer
// writes for a database nobody here designed.
func LoadEmbeddedEHR() (*Registry, error) {
	sub, err := fs.Sub(embedded, "specs_ehr")
	if err != nil {
		return nil, err
	}
	return Load(sub)
}

// LoadDir compiles the *.yaml specs of a folder (FHIRFACADE_MAPPINGS).
func LoadDir(dir string) (*Registry, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: FHIRFACADE_MAPPINGS=%s: %v", ErrSpec, dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%w: FHIRFACADE_MAPPINGS=%s is not a folder", ErrSpec, dir)
	}
	return Load(os.DirFS(dir))
}

// Load compiles every *.yaml file of fsys.
func Load(fsys fs.FS) (*Registry, error) {
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%w: no *.yaml spec found", ErrSpec)
	}
	r := &Registry{specs: map[string]*Spec{}}
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		s := &Spec{file: path.Base(n)}
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		dec.KnownFields(true)
		if err := dec.Decode(s); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrSpec, n, err)
		}
		if _, dup := r.specs[s.ResourceType]; dup {
			return nil, fmt.Errorf("%w: %s: a second spec for %s", ErrSpec, n, s.ResourceType)
		}
		if err := s.compile(); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrSpec, n, err)
		}
		r.specs[s.ResourceType] = s
		r.types = append(r.types, s.ResourceType)
	}
	sort.Strings(r.types)
	for _, s := range r.specs {
		for name, p := range s.params {
			if p.kind == "reference" {
				// a target with no spec (a Practitioner that lives in
				// another system) is searched by the literal id the
				// column holds
				p.target = r.specs[p.spec.Target]
				if p.target == nil && !fhirTypeRE.MatchString(p.spec.Target) {
					return nil, fmt.Errorf("%w: %s: search %s: target %q is not a resource type name", ErrSpec, s.file, name, p.spec.Target)
				}
			}
		}
	}
	return r, nil
}

// Types lists the mapped resource types, sorted.
func (r *Registry) Types() []string { return r.types }

// Spec returns the compiled spec for a type, or nil.
func (r *Registry) Spec(typ string) *Spec { return r.specs[typ] }

// Location is the zone in which the spec reads zone-less legacy date-times.
func (s *Spec) Location() *time.Location { return s.loc }

// SearchParams lists the spec's search parameter names (with _id and
// _lastUpdated), sorted.
func (s *Spec) SearchParams() []string {
	out := make([]string, 0, len(s.params))
	for n := range s.params {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// ParamType is the FHIR type of a search parameter ("" when unknown).
func (s *Spec) ParamType(name string) string {
	if p := s.params[name]; p != nil {
		return p.kind
	}
	return ""
}

// ReferenceTarget is the target type of a reference parameter.
func (s *Spec) ReferenceTarget(name string) string {
	if p := s.params[name]; p != nil && p.kind == "reference" {
		return p.spec.Target
	}
	return ""
}

// IncludePath is the element path (dot-separated) and target type of a
// reference parameter, for _include and _revinclude; ok is false for any
// other parameter.
func (s *Spec) IncludePath(name string) (path, target string, ok bool) {
	p := s.params[name]
	if p == nil || p.kind != "reference" {
		return "", "", false
	}
	return p.spec.Path, p.spec.Target, true
}

// Columns lists every "table.column" the spec maps or ignores, for
// `mappings check`.
func (s *Spec) Columns() (mapped, ignored map[string][]string) {
	mapped = map[string][]string{}
	ignored = map[string][]string{}
	tableOf := map[string]string{"t": s.Table}
	for _, j := range s.Joins {
		tableOf[j.Alias] = j.Table
	}
	add := func(m map[string][]string, ref string) {
		alias, col := splitRef(ref)
		tbl := tableOf[alias]
		for _, c := range m[tbl] {
			if c == col {
				return
			}
		}
		m[tbl] = append(m[tbl], col)
	}
	for _, c := range s.cols {
		add(mapped, c)
	}
	for _, j := range s.Joins {
		add(mapped, "t."+j.On)
		add(mapped, j.Alias+"."+j.Key)
		if j.ResolveBy != "" {
			add(mapped, j.Alias+"."+j.ResolveBy)
		}
	}
	for _, p := range s.params {
		for _, c := range p.columns() {
			add(mapped, c)
		}
	}
	for c := range s.Ignore {
		add(ignored, qualify(c))
	}
	return mapped, ignored
}

// qualify turns a spec's column ("col", "alias.col", "[Name Prefix]",
// "j.\"Code\"") into the engine's reference "alias.name", unquoted; a
// malformed name is returned as given (compile reports it).
func qualify(col string) string {
	parts, err := parseName(col, 2)
	switch {
	case err != nil:
		return col
	case len(parts) == 1:
		return "t." + parts[0]
	}
	return parts[0] + "." + parts[1]
}

func splitRef(ref string) (alias, col string) {
	a, c, ok := strings.Cut(ref, ".")
	if !ok {
		return "t", ref
	}
	return a, c
}

func (s *Spec) compile() error {
	if s.ResourceType == "" || !identRE.MatchString(s.ResourceType) {
		return fmt.Errorf("resourceType is missing or malformed")
	}
	if err := s.compileNames(); err != nil {
		return err
	}
	loc, err := time.LoadLocation(orDefault(s.Timezone, "UTC"))
	if err != nil {
		return fmt.Errorf("timezone %q: %v", s.Timezone, err)
	}
	s.loc = loc
	aliases := map[string]bool{"t": true}
	for _, j := range s.Joins {
		aliases[j.Alias] = true
	}
	if err := s.compileMaps(); err != nil {
		return err
	}
	s.colIndex = map[string]int{}
	s.colPaths = map[string]string{}
	s.keyIdx = s.col("t." + s.Key)
	s.updIdx = -1
	if s.LastUpdated != "" {
		s.updIdx = s.col("t." + s.LastUpdated)
	} else if s.WriteBack.Create || s.WriteBack.Update || s.WriteBack.Delete {
		// If-Match and the update's compare-and-set need a stamp the
		// database moves on every change
		return fmt.Errorf("writeBack needs a lastUpdated column (optimistic concurrency compares it)")
	}
	c := &compiler{s: s, aliases: aliases}
	if s.Template.Kind != yaml.MappingNode {
		return fmt.Errorf("template must be a mapping")
	}
	root, err := c.node(&s.Template, s.ResourceType)
	if err != nil {
		return err
	}
	if len(root.keys) == 0 || root.keys[0] != "resourceType" || string(root.kids[0].lit) != `"`+s.ResourceType+`"` {
		return fmt.Errorf("template must start with resourceType: %s", s.ResourceType)
	}
	s.root = root
	it, err := c.interp(s.ID, s.ResourceType+".id")
	if err != nil {
		return fmt.Errorf("id: %v", err)
	}
	if err := s.compileID(it); err != nil {
		return err
	}
	for _, r := range s.WriteBack.Required {
		if _, ok := s.colIndex[qualify(r)]; !ok {
			return fmt.Errorf("writeBack.required: %s is not a mapped column", r)
		}
	}
	return s.compileSearch(aliases)
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

// col returns the select-list position of a qualified column, adding it.
func (s *Spec) col(ref string) int {
	if i, ok := s.colIndex[ref]; ok {
		return i
	}
	s.cols = append(s.cols, ref)
	s.colIndex[ref] = len(s.cols) - 1
	return len(s.cols) - 1
}

// codeMap is an ordered two-way translation between legacy codes and FHIR
// codes; the first legacy code listed for a FHIR code is the one written.
type codeMap struct {
	// present: the built-in map of a token over a column of any type:
	// true when it holds a value, false when it is NULL
	present bool
	fwd     map[string]string
	rev     map[string]string
	all     map[string][]string // FHIR code -> every legacy code (search)
	def     string              // "_default": FHIR code for unlisted legacy codes
}

func (s *Spec) compileMaps() error {
	s.maps = map[string]*codeMap{"yn": {
		fwd: map[string]string{"Y": "true", "N": "false"},
		rev: map[string]string{"true": "Y", "false": "N"},
		all: map[string][]string{"true": {"Y"}, "false": {"N"}},
	}, "present": {present: true}}
	for name, n := range s.CodeMaps {
		if n.Kind != yaml.MappingNode {
			return fmt.Errorf("codeMaps.%s must be a mapping of legacy code to FHIR code", name)
		}
		m := &codeMap{fwd: map[string]string{}, rev: map[string]string{}, all: map[string][]string{}}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i].Value, n.Content[i+1].Value
			if k == "_default" {
				m.def = v
				continue
			}
			m.fwd[k] = v
			if _, ok := m.rev[v]; !ok {
				m.rev[v] = k
			}
			m.all[v] = append(m.all[v], k)
		}
		s.maps[name] = m
	}
	return nil
}

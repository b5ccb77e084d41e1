// Package archtest holds the tests of the package structure: who may
// import whom, and who may name which control-store table (ARCHITECTURE.md
// in the repository draws the same rules).
package archtest

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/fhirfacade/fhirfacade/"

type pkg struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	Imports    []string
}

func list(t *testing.T) []pkg {
	t.Helper()
	out, err := exec.Command("go", "list", "-json", module+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		p.ImportPath = strings.TrimPrefix(p.ImportPath, module)
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// forbidden lists, per package, the packages it must not import (directly).
var forbidden = map[string][]string{
	// the HTTP layer talks to backends, the router and its catalog through
	// interfaces: never to SQL, specs or a concrete backend
	"facade": {"mappings", "sqldb", "legacy", "upstream", "idmap", "tombstone", "routing", "control", "parity", "syncer", "migrations", "seed", "catalog"},
	// the states, router and fence know no HTTP and no other store's data
	"routing": {"facade", "parity", "syncer", "legacy", "upstream", "mappings"},
	"backend": {"facade", "routing", "mappings", "sqldb", "legacy", "upstream"},
	// mirroring knows backends and the control store, not who routes
	"mirror": {"facade", "routing", "parity", "syncer", "legacy", "upstream", "mappings"},
	// comparison is shared by shadow reads and parity, and knows neither
	"compare":  {"facade", "routing", "parity", "syncer", "legacy", "upstream", "mappings"},
	"mappings": {"facade", "routing", "legacy", "upstream", "control"},
	"legacy":   {"facade", "routing", "upstream", "control"},
	"upstream": {"facade", "routing", "legacy", "mappings", "sqldb", "control"},
	"search":   {"facade", "routing", "backend", "mappings", "sqldb"},
	"auth":     {"facade", "routing", "sqldb", "control"},
	// tombstones wrap any backend and keep their rows in the control store
	"tombstone": {"facade", "routing", "legacy", "upstream", "mappings", "sqldb", "idmap"},
}

// TestImports: no package imports what it must not.
func TestImports(t *testing.T) {
	for _, p := range list(t) {
		bad := forbidden[p.ImportPath]
		for _, imp := range p.Imports {
			imp = strings.TrimPrefix(imp, module)
			for _, b := range bad {
				if imp == b {
					t.Errorf("%s imports %s", p.ImportPath, b)
				}
			}
		}
	}
}

// tables are the control store's tables, read from its PostgreSQL
// migrations (so that a new table cannot be left out of the rule):
// created by an up migration and not dropped by a later one.
var tables = controlTables()

var createDrop = regexp.MustCompile(`(?i)\b(CREATE|DROP) TABLE (?:IF (?:NOT )?EXISTS )?([a-z_][a-z0-9_]*)`)

func controlTables() []string {
	files, err := filepath.Glob("../../migrations/control/postgres/*.up.sql")
	if err != nil || len(files) == 0 {
		panic(fmt.Sprintf("archtest: no control migrations found (%v)", err))
	}
	sort.Strings(files)
	live := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			panic(err)
		}
		for _, m := range createDrop.FindAllStringSubmatch(string(b), -1) {
			live[strings.ToLower(m[2])] = strings.EqualFold(m[1], "CREATE")
		}
	}
	var out []string
	for tb, ok := range live {
		if ok {
			out = append(out, tb)
		}
	}
	sort.Strings(out)
	return out
}

// TestTableOwners: outside control (and migrations, which create them),
// no package names a control-store table: control is each table's one
// owner, behind typed methods. And control names every one of them (which
// also shows the search finds what it looks for).
func TestTableOwners(t *testing.T) {
	for _, p := range list(t) {
		if p.ImportPath == "control" {
			if names := tablesNamed(t, p); strings.Join(names, ",") != strings.Join(tables, ",") {
				t.Errorf("control names %v; want every table, %v", names, tables)
			}
			continue
		}
		if p.ImportPath == "migrations" || strings.HasPrefix(p.ImportPath, "internal/") || strings.HasPrefix(p.ImportPath, "bench") {
			continue
		}
		if names := tablesNamed(t, p); len(names) > 0 {
			t.Errorf("%s names %v (only control may name a control-store table: move the SQL there, behind a typed method)", p.ImportPath, names)
		}
	}
}

// tablesNamed lists the tables a package's non-test files name in string
// literals: in SQL (FROM, INTO, UPDATE, JOIN, TABLE) or as a whole literal
// (a table passed to a query builder).
func tablesNamed(t *testing.T, p pkg) []string {
	t.Helper()
	found := map[string]bool{}
	fs := token.NewFileSet()
	for _, f := range p.GoFiles {
		file, err := parser.ParseFile(fs, filepath.Join(p.Dir, f), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				return true
			}
			for _, tb := range tables {
				// a whole literal counts only for names no word shares
				// ("route" is also a log key)
				if (s == tb && strings.Contains(tb, "_")) || sqlNames(tb).MatchString(s) {
					found[tb] = true
				}
			}
			return true
		})
	}
	var out []string
	for tb := range found {
		out = append(out, tb)
	}
	sort.Strings(out)
	return out
}

var sqlRE = map[string]*regexp.Regexp{}

func sqlNames(table string) *regexp.Regexp {
	if re, ok := sqlRE[table]; ok {
		return re
	}
	re := regexp.MustCompile(`(?i)\b(from|into|update|join|table)\s+` + table + `\b`)
	sqlRE[table] = re
	return re
}

// specOnlyTypes are the resource types that exist only as mapping specs,
// migrations and seed rows (issue 12): no Go code may name them, so that
// adding a type stays a spec, never an engine change.
var specOnlyTypes = []string{"Condition", "AllergyIntolerance", "MedicationRequest", "Immunization", "Procedure", "Practitioner", "Organization", "Location"}

// TestSpecOnlyTypes: no non-test Go file holds one of specOnlyTypes as a
// string literal: the whole literal, a reference or URL (Practitioner/1,
// Location?name=) or an include (Location:organization). The hand-written
// comparison servers under bench/ are exempt: they are what the facade is
// measured against, not part of it. (The HTTP header is echo.HeaderLocation.)
func TestSpecOnlyTypes(t *testing.T) {
	for _, p := range list(t) {
		if strings.HasPrefix(p.ImportPath, "bench") {
			continue
		}
		for _, hit := range typesNamed(t, p.Dir, p.GoFiles) {
			t.Errorf("%s names %s (a type served from its spec alone: put what differs in the spec, or make the engine generic)", p.ImportPath, hit)
		}
	}
}

// TestSpecOnlyTypesFound: the search of TestSpecOnlyTypes finds the forms
// it looks for, and only those.
func TestSpecOnlyTypesFound(t *testing.T) {
	dir := t.TempDir()
	src := "package x\n\nvar a = []string{\"Practitioner\", \"Location/\" + id, \"Condition?code=1\", \"Encounter:location\", \"Procedure:patient\", " +
		"\"(links, Location) header\", \"Locations\", \"ConditionalCreate\", \"poll the URL in Content-Location\", \"see Location/\"}\nvar id string\n"
	if err := writeFile(filepath.Join(dir, "x.go"), src); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(typesNamed(t, dir, []string{"x.go"}), ", ")
	want := `x.go: "Practitioner", x.go: "Location/", x.go: "Condition?code=1", x.go: "Procedure:patient", x.go: "see Location/"`
	if got != want {
		t.Errorf("found %s\nwant  %s", got, want)
	}
}

// typesNamed lists "file: literal" for each string literal of the files
// that names one of specOnlyTypes.
func typesNamed(t *testing.T, dir string, files []string) []string {
	t.Helper()
	// a type name not joined to a word before it by a hyphen: the
	// Content-Location header is not the Location type
	re := regexp.MustCompile(`(^|[^-\w])(` + strings.Join(specOnlyTypes, "|") + `)([/?]|:[a-z]|$)`)
	var out []string
	fs := token.NewFileSet()
	for _, f := range files {
		file, err := parser.ParseFile(fs, filepath.Join(dir, f), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err == nil && (slices.Contains(specOnlyTypes, s) || re.MatchString(s)) {
				out = append(out, f+": "+lit.Value)
			}
			return true
		})
	}
	return out
}

func writeFile(name, content string) error { return os.WriteFile(name, []byte(content), 0o644) }

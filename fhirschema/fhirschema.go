// Package fhirschema validates FHIR R4 resources against the R4 JSON
// schema (fhir.schema.json). The schema is not shipped in the binary (3 MB,
// and kept outside this repository in ../shared/reference/fhir-r4): it is
// read from a file, by default the shared copy when one is found.
package fhirschema

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// ErrNoSchema: no schema file was given and none was found.
var ErrNoSchema = errors.New("FHIR R4 JSON schema not found")

// schemaURL is the $id of fhir.schema.json.
const schemaURL = "http://hl7.org/fhir/json-schema/4.0"

// sharedRel is where the shared reference keeps the schema, relative to a
// folder beside the repository.
var sharedRel = filepath.Join("shared", "reference", "fhir-r4", "fhir.schema.json")

// DefaultPath is the shared schema found beside the working directory or
// one of its parents (../shared/reference/fhir-r4/fhir.schema.json from a
// checkout), "" when there is none.
func DefaultPath() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		for _, p := range []string{filepath.Join(dir, sharedRel), filepath.Join(dir, "..", sharedRel)} {
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				return filepath.Clean(p)
			}
		}
		up := filepath.Dir(dir)
		if up == dir {
			return ""
		}
		dir = up
	}
}

// Validator checks resources against the schema, one compiled definition
// per resource type (compiled on first use). Safe for concurrent use.
type Validator struct {
	c       *jsonschema.Compiler
	choices choices // the schema's choice elements (choice.go)
	mu      sync.Mutex
	schemas map[string]*jsonschema.Schema
}

// Load reads the schema at path.
func Load(path string) (*Validator, error) {
	if path == "" {
		return nil, fmt.Errorf("%w: give its path (../shared/reference/fhir-r4/fhir.schema.json)", ErrNoSchema)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoSchema, err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, fmt.Errorf("FHIR schema %s: %w", path, err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, fmt.Errorf("FHIR schema %s: %w", path, err)
	}
	return &Validator{c: c, choices: choiceGroups(doc), schemas: map[string]*jsonschema.Schema{}}, nil
}

func (v *Validator) schema(typ string) (*jsonschema.Schema, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if s, ok := v.schemas[typ]; ok {
		return s, nil
	}
	s, err := v.c.Compile(schemaURL + "#/definitions/" + typ)
	if err != nil {
		return nil, fmt.Errorf("FHIR schema for %s: %w", typ, err)
	}
	v.schemas[typ] = s
	return s, nil
}

// Prepare compiles the definitions of types now (compiling the first one
// reads the whole schema and takes seconds), so that timing validation
// later measures validation only.
func (v *Validator) Prepare(types ...string) error {
	for _, t := range types {
		if _, err := v.schema(t); err != nil {
			return err
		}
	}
	return nil
}

// Failure is one place where a resource breaks the schema.
type Failure struct {
	Path string // FHIR-style: Patient.name[0].family
	Msg  string
}

func (f Failure) String() string { return f.Path + ": " + f.Msg }

// Validate checks one resource of type typ; an error means it could not
// be checked at all (not JSON, an unknown type), failures that it was and
// broke the schema, or held two types of one choice element (which R4
// forbids and the JSON schema cannot express).
func (v *Validator) Validate(typ string, raw []byte) ([]Failure, error) {
	s, err := v.schema(typ)
	if err != nil {
		return nil, err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	out := v.choices.check(typ, inst)
	err = s.Validate(inst)
	var ve *jsonschema.ValidationError
	if err != nil && !errors.As(err, &ve) {
		return nil, err
	}
	if ve != nil {
		leaves(ve, func(e *jsonschema.ValidationError) {
			out = append(out, Failure{Path: fhirPath(typ, e.InstanceLocation), Msg: e.ErrorKind.LocalizedString(printer)})
		})
	}
	if len(out) == 0 {
		return nil, nil
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}

var printer = message.NewPrinter(language.English)

// leaves calls fn for the innermost errors: the ones that say what is wrong.
func leaves(e *jsonschema.ValidationError, fn func(*jsonschema.ValidationError)) {
	if len(e.Causes) == 0 {
		fn(e)
		return
	}
	for _, c := range e.Causes {
		leaves(c, fn)
	}
}

// fhirPath writes an instance location (["name","0","family"]) as a FHIR
// path (Patient.name[0].family).
func fhirPath(typ string, loc []string) string {
	var b strings.Builder
	b.WriteString(typ)
	for _, p := range loc {
		if _, err := strconv.Atoi(p); err == nil {
			b.WriteString("[" + p + "]")
			continue
		}
		b.WriteString("." + p)
	}
	return b.String()
}

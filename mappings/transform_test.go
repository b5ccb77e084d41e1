package mappings

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// trCase is one transform call: enc (columns → JSON) when in is nil, dec
// (JSON → columns) otherwise.
type trCase struct {
	name   string
	arg    string
	cols   []any  // enc input, or dec's wanted output
	suffix string // the choice suffix produced (enc) or given (dec)
	in     any    // dec input
	want   string // enc: JSON ("" = absent); dec: fmt of the columns
	err    string // substring of the expected error
}

func testSpec(t *testing.T) *Spec {
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	return &Spec{loc: loc, maps: map[string]*codeMap{
		"g":   {fwd: map[string]string{"M": "male", "F": "female"}, rev: map[string]string{"male": "M", "female": "F"}},
		"dft": {fwd: map[string]string{"A": "active"}, rev: map[string]string{"active": "A"}, def: "unknown"},
	}}
}

// runTransform checks each case of one named transform.
func runTransform(t *testing.T, name string, cases []trCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr, err := transforms[name](testSpec(t), c.arg)
			if err != nil {
				if c.err != "" && strings.Contains(err.Error(), c.err) {
					return
				}
				t.Fatalf("construct %s:%s: %v", name, c.arg, err)
			}
			var got string
			if c.in == nil {
				out, suffix, ok, err := tr.enc(nil, c.cols)
				if ok {
					got = string(out)
				}
				if suffix != c.suffix && err == nil {
					t.Fatalf("suffix %q, want %q", suffix, c.suffix)
				}
				checkResult(t, got, c.want, err, c.err)
				return
			}
			cols, err := tr.dec(c.suffix, c.in)
			if err == nil {
				got = fmt.Sprint(cols)
			}
			checkResult(t, got, c.want, err, c.err)
		})
	}
}

func checkResult(t *testing.T, got, want string, err error, wantErr string) {
	t.Helper()
	switch {
	case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
		t.Fatalf("error %v, want one saying %q", err, wantErr)
	case wantErr == "" && err != nil:
		t.Fatalf("unexpected error %v", err)
	case wantErr == "" && got != want:
		t.Fatalf("got %s, want %s", got, want)
	}
}

func num(s string) json.Number { return json.Number(s) }

func TestTransformString(t *testing.T) {
	runTransform(t, "string", []trCase{
		{name: "text", cols: []any{"Smith  "}, want: `"Smith"`},
		{name: "bytes", cols: []any{[]byte("Ann")}, want: `"Ann"`},
		{name: "NULL is absent", cols: []any{nil}},
		{name: "blank is absent", cols: []any{"   "}},
		{name: "escaped", cols: []any{"a\"b\n"}, want: `"a\"b\n"`},
		{name: "dec", in: "x", want: "[x]"},
		{name: "dec not a string", in: num("3"), err: "want a string"},
	})
}

func TestTransformInt(t *testing.T) {
	runTransform(t, "int", []trCase{
		{name: "int64", cols: []any{int64(42)}, want: "42"},
		{name: "text", cols: []any{" 7 "}, want: "7"},
		{name: "NULL", cols: []any{nil}},
		{name: "not a number", cols: []any{"x1"}, err: "invalid syntax"},
		{name: "dec number", in: num("12"), want: "[12]"},
		{name: "dec string", in: "12", want: "[12]"},
		{name: "dec negative", in: num("-1"), err: "not an id"},
		{name: "dec fraction", in: num("1.5"), err: "not an id"},
		{name: "dec bool", in: true, err: "whole number"},
	})
}

func TestTransformCode(t *testing.T) {
	runTransform(t, "code", []trCase{
		{name: "mapped", arg: "g", cols: []any{"F"}, want: `"female"`},
		{name: "unmapped", arg: "g", cols: []any{"Q"}, err: `"Q" is not in code map g`},
		{name: "default", arg: "dft", cols: []any{"Z"}, want: `"unknown"`},
		{name: "NULL", arg: "g", cols: []any{nil}},
		{name: "no such map", arg: "nope", cols: []any{"F"}, err: `code map "nope" is not defined`},
		{name: "dec", arg: "g", in: "male", want: "[M]"},
		{name: "dec unknown", arg: "g", in: "other", err: "has no legacy code"},
		{name: "dec not a code", arg: "g", in: num("1"), err: "want a code"},
	})
}

func TestTransformDate(t *testing.T) {
	runTransform(t, "date", []trCase{
		{name: "time", cols: []any{time.Date(1970, 3, 4, 0, 0, 0, 0, time.UTC)}, want: `"1970-03-04"`},
		{name: "text", cols: []any{"1970-03-04"}, want: `"1970-03-04"`},
		{name: "NULL", cols: []any{nil}},
		{name: "garbage", cols: []any{"March"}, err: "not a date"},
		{name: "dec", in: "1970-03-04", want: "[1970-03-04 00:00:00 +0000 UTC]"},
		{name: "dec partial", in: "1970-03", err: "full dates only"},
	})
}

func TestTransformDateTime(t *testing.T) {
	runTransform(t, "datetime", []trCase{
		{name: "wall clock in the spec's zone", cols: []any{"2023-06-10 09:30:00"}, want: `"2023-06-10T09:30:00-04:00"`},
		{name: "winter", cols: []any{"2023-01-10 09:30:00"}, want: `"2023-01-10T09:30:00-05:00"`},
		{name: "NULL", cols: []any{nil}},
		{name: "dec to the spec's wall clock", in: "2023-06-10T13:30:00Z", want: "[2023-06-10 09:30:00 +0000 UTC]"},
		{name: "dec without zone", in: "2023-06-10T09:30:00", err: "with a zone"},
		{name: "dec fraction", in: "2023-06-10T09:30:00.5Z", err: "whole seconds"},
	})
}

func TestTransformYN(t *testing.T) {
	runTransform(t, "yn", []trCase{
		{name: "Y", cols: []any{"Y"}, want: "true"},
		{name: "N", cols: []any{"N"}, want: "false"},
		{name: "NULL", cols: []any{nil}},
		{name: "other", cols: []any{"X"}, err: "neither Y nor N"},
		{name: "dec", in: true, want: "[Y]"},
		{name: "dec string", in: "true", err: "want true or false"},
	})
}

func TestTransformDeceased(t *testing.T) {
	runTransform(t, "deceased", []trCase{
		{name: "flag only", cols: []any{"N", nil}, suffix: "Boolean", want: "false"},
		{name: "date wins", cols: []any{"Y", "2020-01-02 03:04:05"}, suffix: "DateTime", want: `"2020-01-02T03:04:05-05:00"`},
		{name: "neither", cols: []any{nil, nil}},
		{name: "bad flag", cols: []any{"?", nil}, err: "neither Y nor N"},
		{name: "dec Boolean", suffix: "Boolean", in: true, want: "[Y <nil>]"},
		{name: "dec DateTime", suffix: "DateTime", in: "2020-01-02T08:04:05Z", want: "[Y 2020-01-02 03:04:05 +0000 UTC]"},
		{name: "dec other choice", suffix: "String", in: "x", err: "Boolean or DateTime only"},
	})
}

func TestTransformLabValue(t *testing.T) {
	runTransform(t, "labvalue", []trCase{
		{name: "number and unit", cols: []any{"1.48", "mg/dL"}, suffix: "Quantity", want: `{"value":1.48,"unit":"mg/dL","system":"http://unitsofmeasure.org","code":"mg/dL"}`},
		{name: "comparator", cols: []any{"<0.5", nil}, suffix: "Quantity", want: `{"value":0.5,"comparator":"<"}`},
		{name: "text", cols: []any{"positive", nil}, suffix: "String", want: `"positive"`},
		{name: "NULL", cols: []any{nil, nil}},
		{name: "dec Quantity", suffix: "Quantity", in: map[string]any{"value": num("1.48"), "unit": "mg/dL"}, want: "[1.48 mg/dL]"},
		{name: "dec comparator", suffix: "Quantity", in: map[string]any{"value": num("5"), "comparator": ">="}, want: "[>=5 <nil>]"},
		{name: "dec bad comparator", suffix: "Quantity", in: map[string]any{"value": num("5"), "comparator": "~"}, err: "not one of"},
		{name: "dec other system", suffix: "Quantity", in: map[string]any{"value": num("5"), "system": "http://x"}, err: "UCUM only"},
		{name: "dec unit and code differ", suffix: "Quantity", in: map[string]any{"value": num("5"), "unit": "a", "code": "b"}, err: "differ"},
		{name: "dec unknown element", suffix: "Quantity", in: map[string]any{"value": num("5"), "extension": 1}, err: "no place"},
		{name: "dec no value", suffix: "Quantity", in: map[string]any{"unit": "a"}, err: "required"},
		{name: "dec String", suffix: "String", in: "positive", want: "[positive <nil>]"},
		{name: "dec other choice", suffix: "Boolean", in: true, err: "Quantity or String only"},
	})
}

func TestTransformDecimal(t *testing.T) {
	runTransform(t, "decimal", []trCase{
		{name: "precision kept", cols: []any{"5.4000"}, want: "5.4000"},
		{name: "negative", cols: []any{"-73.756230"}, want: "-73.756230"},
		{name: "whole", cols: []any{"82"}, want: "82"},
		{name: "NULL", cols: []any{nil}},
		{name: "not a number", cols: []any{"$1.50"}, err: "not a decimal"},
		{name: "dec", in: num("5.40"), want: "[5.40]"},
		{name: "dec string", in: "5.4", err: "want a decimal"},
	})
}

func TestTransformDeceasedDate(t *testing.T) {
	runTransform(t, "deceasedDate", []trCase{
		{name: "date-time in the spec's zone", cols: []any{"2020-01-02 03:04:05"}, suffix: "DateTime", want: `"2020-01-02T03:04:05-05:00"`},
		{name: "NULL: left out", cols: []any{nil}},
		{name: "dec DateTime", suffix: "DateTime", in: "2020-01-02T08:04:05Z", want: "[2020-01-02 03:04:05 +0000 UTC]"},
		{name: "dec false clears", suffix: "Boolean", in: false, want: "[<nil>]"},
		{name: "dec true", suffix: "Boolean", in: true, err: "date of death only"},
	})
}

// TestTransformRegistry: every registered name constructs, an unknown one
// is refused, and the default is string.
func TestTransformRegistry(t *testing.T) {
	for name := range transforms {
		arg := ""
		if name == "code" {
			arg = "g"
		}
		if _, err := newTransform(testSpec(t), name, arg); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if tr, err := newTransform(testSpec(t), "", ""); err != nil || tr.name != "string" {
		t.Fatalf("default: %v %v", tr, err)
	}
	if _, err := newTransform(testSpec(t), "nope", ""); err == nil || !strings.Contains(err.Error(), `unknown transform "nope"`) {
		t.Fatalf("unknown: %v", err)
	}
}

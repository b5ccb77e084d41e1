package search

import (
	"reflect"
	"regexp"
	"testing"
)

// datePattern is the shape dateParts implements, kept here as its oracle.
var datePattern = regexp.MustCompile(`^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$`)

var dateShapes = []string{
	"", "2", "202", "2023", "20230", "2023-", "2023-0", "2023-01", "2023-1-01", "2023-01-", "2023-01-0", "2023-01-02",
	"2023-01-02T", "2023-01-02T1", "2023-01-02T10", "2023-01-02T10:", "2023-01-02T10:3", "2023-01-02T10:30",
	"2023-01-02T10:30Z", "2023-01-02T10:30+05:00", "2023-01-02T10:30-05:00", "2023-01-02T10:30:4", "2023-01-02T10:30:45",
	"2023-01-02T10:30:45.", "2023-01-02T10:30:45.1", "2023-01-02T10:30:45.123456789", "2023-01-02T10:30:45.1234567890",
	"2023-01-02T10:30:45.123Z", "2023-01-02T10:30:45.123+14:00", "2023-01-02T10:30:45Z", "2023-01-02T10:30:45ZZ",
	"2023-01-02T10:30:45+0500", "2023-01-02T10:30:45+05:0", "2023-01-02T10:30:45+05:00x", "2023-01-02Z", "2023Z",
	"2023-01T10:30", "2023T10:30", "２０２３", "2023-01-02t10:30", "2023-01-02 10:30", "-2023", "2023-01-02T10:30:45.Z",
	"9999-99-99T99:99:99.999999999-99:99", "0000", "2023-01-02T10:30:45+05:00Z",
}

func TestDatePartsMatchesPattern(t *testing.T) {
	for _, v := range dateShapes {
		t.Run(v, func(t *testing.T) { checkDateParts(t, v) })
	}
}

func FuzzDateParts(f *testing.F) {
	for _, v := range dateShapes {
		f.Add(v)
	}
	f.Fuzz(checkDateParts)
}

func checkDateParts(t *testing.T, v string) {
	want := datePattern.FindStringSubmatch(v)
	if got := dateParts(v); !reflect.DeepEqual(got, want) {
		t.Fatalf("dateParts(%q) = %q, the pattern gives %q", v, got, want)
	}
}

package sqldb

import (
	"database/sql/driver"
	"strings"

	"modernc.org/sqlite"
)

// SQLite's own lower() and LIKE fold ASCII only: "NÚÑEZ" would never find
// "Núñez". fhir_lower folds every letter the way Go does; string search
// uses it when the searched value is not all ASCII (an ASCII value keeps
// plain LIKE, which the COLLATE NOCASE indexes serve).
func init() {
	if err := sqlite.RegisterDeterministicScalarFunction("fhir_lower", 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		switch v := args[0].(type) {
		case string:
			return strings.ToLower(v), nil
		case []byte:
			return strings.ToLower(string(v)), nil
		}
		return args[0], nil
	}); err != nil {
		panic("sqldb: register fhir_lower: " + err.Error())
	}
}

// unicodeLower: dialects whose case-insensitive LIKE folds ASCII only,
// with the function that folds every letter.
var unicodeLower = map[string]string{"sqlite": "fhir_lower"}

// LikeCIText is LikeCI for a value that may hold letters beyond ASCII:
// where the dialect's LIKE folds ASCII only, col goes through a function
// that folds them all and the caller lower-cases the pattern.
func LikeCIText(d Dialect, col, ph string, nonASCII bool) (cond string, lowerArg bool) {
	if f, ok := unicodeLower[d.Name()]; ok && nonASCII {
		return f + "(" + col + ") LIKE " + ph + ` ESCAPE '\'`, true
	}
	return d.LikeCI(col, ph)
}

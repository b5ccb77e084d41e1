package mappings_test

import (
	"testing"
)

// BenchmarkEncode measures mapping one row to FHIR JSON on one core
// (go test -bench Encode -cpu 1 ./mappings); the resources/s metric is the
// figure BENCHMARKS.md reports.
func BenchmarkEncode(b *testing.B) {
	reg := registry(b)
	cases := []struct {
		name string
		typ  string
		row  []any
	}{
		{"Patient", "Patient", patientRow(reg)},
		{"Observation", "Observation", observationRow(reg, "5.40", "mg/dL")},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			s := reg.Spec(c.typ)
			buf := make([]byte, 0, 2048)
			b.ReportAllocs()
			for b.Loop() {
				var err error
				buf, _, err = s.Encode(buf[:0], c.row)
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "resources/s")
		})
	}
}

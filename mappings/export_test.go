package mappings

// RowFrom builds a row in select-list order from qualified column values.
func (s *Spec) RowFrom(v map[string]any) Row {
	row := make(Row, len(s.cols))
	for i, c := range s.cols {
		row[i] = v[c]
	}
	return row
}

// unresolved stands in for a join column CheckWrite cannot look up.
type unresolved struct{}

// CheckWrite is WriteValues without a database: every join lookup is
// taken to succeed (with the code the resource gives for the join column
// itself, when it gives one).
func (s *Spec) CheckWrite(res map[string]any) error {
	_, err := s.WriteValues(res, func(j Join, v Values) (any, error) {
		if given := v["t."+j.On]; given != nil {
			return given, nil
		}
		return unresolved{}, nil
	})
	return err
}

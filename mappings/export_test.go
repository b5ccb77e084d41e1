package mappings

// RowFrom builds a row in select-list order from qualified column values.
func (s *Spec) RowFrom(v map[string]any) Row {
	row := make(Row, len(s.cols))
	for i, c := range s.cols {
		row[i] = v[c]
	}
	return row
}

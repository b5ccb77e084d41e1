package bulk

import (
	"bufio"
	"io"
	"strings"
	"testing"
)

// TestReadLine: lines up to the cap are read whole (across the reader's
// buffer), a longer one is dropped and reported, and the next line after
// it is read whole.
func TestReadLine(t *testing.T) {
	const max = 40
	long := strings.Repeat("x", 100)
	in := "short\n" + strings.Repeat("y", max-1) + "\n" + long + "\nafter\nlast"
	br := bufio.NewReaderSize(strings.NewReader(in), 16)
	for i, want := range []struct {
		line string
		long bool
		eof  bool
	}{
		{"short\n", false, false},
		{strings.Repeat("y", max-1) + "\n", false, false},
		{"", true, false},
		{"after\n", false, false},
		{"last", false, true},
	} {
		line, isLong, err := readLine(br, max)
		if string(line) != want.line || isLong != want.long || (err == io.EOF) != want.eof || (err != nil && err != io.EOF) {
			t.Errorf("line %d: %q long %v err %v, want %q long %v", i, line, isLong, err, want.line, want.long)
		}
	}
}

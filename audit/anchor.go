package audit

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Anchor is a link of the chain recorded outside the control store (in a
// ticket, a WORM bucket, a signed email): someone who can write the store
// can recompute every hash after an edit, or cut the tail and move the
// head back, and the chain alone still verifies; it cannot match a hash it
// does not control.
type Anchor struct {
	Seq  int64
	Hash string
}

func (a Anchor) String() string { return fmt.Sprintf("%d:%s", a.Seq, a.Hash) }

// ErrBadAnchor is returned for an anchor that is not SEQ:HASH.
var ErrBadAnchor = errors.New("bad audit anchor")

// ParseAnchor reads SEQ:HASH as printed by `fhirfacade audit verify`.
func ParseAnchor(s string) (Anchor, error) {
	seq, hash, ok := strings.Cut(strings.TrimSpace(s), ":")
	n, err := strconv.ParseInt(seq, 10, 64)
	if !ok || err != nil || n < 1 || len(hash) != 64 || strings.Trim(strings.ToLower(hash), "0123456789abcdef") != "" {
		return Anchor{}, fmt.Errorf("%w %q: want SEQ:HASH as `fhirfacade audit verify` prints it", ErrBadAnchor, s)
	}
	return Anchor{Seq: n, Hash: strings.ToLower(hash)}, nil
}

// LoadAnchors reads an anchor log: one anchor per line as AppendAnchor
// writes it (SEQ:HASH, then free text such as the time), blank lines and
// lines starting with # skipped. A missing file is an empty log.
func LoadAnchors(path string) ([]Anchor, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Anchor
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		a, err := ParseAnchor(strings.Fields(line)[0])
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, n, err)
		}
		out = append(out, a)
	}
	return out, sc.Err()
}

// AppendAnchor adds a to the anchor log at path (created if missing), in
// one append and synced: the log is meant for storage the control store's
// writers cannot reach (a WORM mount, another host's share).
func AppendAnchor(path string, a Anchor, at time.Time) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(f, "%s %s\n", a, at.UTC().Format(time.RFC3339)); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

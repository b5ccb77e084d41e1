package audit_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/audit"
)

// rewrite is the attack of someone who can write the store and knows the
// (public) chain step: edit record from, recompute every later hash, move
// the head. The chain alone verifies afterwards.
func rewrite(t *testing.T, st *audit.Store, from int64) {
	t.Helper()
	ctx := context.Background()
	var prev string
	if err := st.DB.QueryRowContext(ctx, fmt.Sprintf("SELECT hash FROM audit_event WHERE seq = %d", from-1)).Scan(&prev); err != nil {
		t.Fatal(err)
	}
	rows, err := st.DB.QueryContext(ctx, fmt.Sprintf("SELECT seq, body FROM audit_event WHERE seq >= %d ORDER BY seq", from))
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		seq  int64
		body string
	}
	var rs []row
	for rows.Next() {
		var r row
		_ = rows.Scan(&r.seq, &r.body)
		rs = append(rs, r)
	}
	rows.Close()
	for i, r := range rs {
		if i == 0 {
			r.body = strings.Replace(r.body, `"client":"c"`, `"client":"innocent"`, 1)
		}
		sum := sha256.Sum256([]byte(prev + "\n" + fmt.Sprint(r.seq) + "\n" + r.body))
		h := hex.EncodeToString(sum[:])
		ph := st.DB.Dialect.Placeholder
		if _, err := st.DB.ExecContext(ctx, fmt.Sprintf("UPDATE audit_event SET body = %s, prev_hash = %s, hash = %s WHERE seq = %s", ph(1), ph(2), ph(3), ph(4)), r.body, prev, h, r.seq); err != nil {
			t.Fatal(err)
		}
		prev = h
	}
	if _, err := st.DB.ExecContext(ctx, fmt.Sprintf("UPDATE audit_head SET hash = '%s' WHERE id = 1", prev)); err != nil {
		t.Fatal(err)
	}
}

// TestAnchors: the two attacks a chain cannot see by itself — the whole
// chain recomputed after an edit, and the tail cut with the head moved
// back — pass a bare verify (the gap anchors close) and fail against an
// anchor taken before, naming the record.
func TestAnchors(t *testing.T) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			cases := []struct {
				name   string
				attack func(t *testing.T, st *audit.Store)
				seq    int64
				reason string
			}{
				{"chain recomputed after an edit", func(t *testing.T, st *audit.Store) { rewrite(t, st, 30) }, 60, "does not match its anchor"},
				{"tail cut and head moved back", func(t *testing.T, st *audit.Store) {
					for _, q := range []string{"DELETE FROM audit_event WHERE seq > 55",
						"UPDATE audit_head SET seq = 55, hash = (SELECT hash FROM audit_event WHERE seq = 55) WHERE id = 1"} {
						if _, err := st.DB.ExecContext(context.Background(), q); err != nil {
							t.Fatal(err)
						}
					}
				}, 60, "anchored record missing"},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					ctx := context.Background()
					st := open(t, s)
					fill(t, st, 60)
					rep, err := st.Verify(ctx)
					if err != nil || rep.Problem != nil || rep.HeadSeq != 60 {
						t.Fatalf("before: %v %+v", err, rep)
					}
					anchor, err := audit.ParseAnchor(audit.Anchor{Seq: rep.HeadSeq, Hash: rep.HeadHash}.String())
					if err != nil {
						t.Fatal(err)
					}
					if rep, err := st.Verify(ctx, anchor); err != nil || rep.Problem != nil {
						t.Fatalf("intact chain against its own anchor: %v %+v", err, rep.Problem)
					}
					for _, stmt := range strings.Split(s.unlock, ";") {
						if _, err := st.DB.ExecContext(ctx, stmt); err != nil {
							t.Fatal(err)
						}
					}
					tc.attack(t, st)
					if rep, err := st.Verify(ctx); err != nil || rep.Problem != nil {
						t.Fatalf("the attack was expected to pass a bare verify (else this test attacks nothing): %v %+v", err, rep.Problem)
					}
					rep, err = st.Verify(ctx, anchor)
					if err != nil || rep.Problem == nil || rep.Problem.Seq != tc.seq || !strings.Contains(rep.Problem.Reason, tc.reason) {
						t.Fatalf("want %q at %d, got %v %+v", tc.reason, tc.seq, err, rep.Problem)
					}
				})
			}
		})
	}
}

func TestParseAnchor(t *testing.T) {
	h := strings.Repeat("ab", 32)
	for _, c := range []struct {
		in string
		ok bool
	}{
		{"12:" + h, true},
		{" 12:" + strings.ToUpper(h) + "\n", true},
		{"0:" + h, false},
		{"-1:" + h, false},
		{"12:" + h[:63], false},
		{"12:" + h[:62] + "zz", false},
		{h, false},
		{"x:" + h, false},
		{"", false},
	} {
		a, err := audit.ParseAnchor(c.in)
		if c.ok != (err == nil) || (!c.ok && !errors.Is(err, audit.ErrBadAnchor)) {
			t.Errorf("ParseAnchor(%q) = %v, %v", c.in, a, err)
		}
		if c.ok && (a.Seq != 12 || a.Hash != h) {
			t.Errorf("ParseAnchor(%q) = %v", c.in, a)
		}
	}
}

// TestAnchorLog: appended anchors read back in order; comments and blank
// lines are skipped; a bad line is named; a missing log is empty.
func TestAnchorLog(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "anchors.log")
	if got, err := audit.LoadAnchors(path); err != nil || len(got) != 0 {
		t.Fatalf("missing log: %v %v", got, err)
	}
	want := []audit.Anchor{{Seq: 7, Hash: strings.Repeat("a1", 32)}, {Seq: 9, Hash: strings.Repeat("0f", 32)}}
	for _, a := range want {
		if err := audit.AppendAnchor(path, a, time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := audit.LoadAnchors(path)
	if err != nil || len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("read back %v %v", got, err)
	}
	raw, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(raw), "7:"+want[0].Hash+" 2026-11-29T12:00:00Z\n") {
		t.Fatalf("log line %q", raw)
	}
	for _, c := range []struct {
		text string
		n    int
		bad  string
	}{
		{"# anchors\n\n" + string(raw), 2, ""},
		{string(raw) + "12:short\n", 0, "line 3"},
	} {
		p := filepath.Join(dir, "case.log")
		_ = os.WriteFile(p, []byte(c.text), 0o600)
		got, err := audit.LoadAnchors(p)
		if c.bad != "" {
			if err == nil || !errors.Is(err, audit.ErrBadAnchor) || !strings.Contains(err.Error(), c.bad) {
				t.Fatalf("%q: want an error naming %s, got %v", c.text, c.bad, err)
			}
			continue
		}
		if err != nil || len(got) != c.n {
			t.Fatalf("%q: %v %v", c.text, got, err)
		}
	}
}

package audit_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fhirfacade/fhirfacade/audit"
	"github.com/fhirfacade/fhirfacade/control"
	"github.com/fhirfacade/fhirfacade/internal/testutil"
)

// cutProxy is a TCP proxy to PostgreSQL that, when armed, cuts the
// connection at one chosen moment: before the server sees a statement
// (toServer holds a pattern of the client's bytes), or after the server
// answered it (toClient holds a pattern of the answer) — the statement then
// committed and the client never learns it.
type cutProxy struct {
	ln                 net.Listener
	target             string
	toServer, toClient atomic.Pointer[[]byte]
	cut                atomic.Int32
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			go p.pipe(c, s, &p.toServer)
			go p.pipe(s, c, &p.toClient)
		}
	}()
	return p
}

// pipe copies from src to dst until the armed pattern shows up in src.
func (p *cutProxy) pipe(src, dst net.Conn, pattern *atomic.Pointer[[]byte]) {
	defer src.Close()
	defer dst.Close()
	buf := make([]byte, 64<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if pat := pattern.Load(); pat != nil && bytes.Contains(buf[:n], *pat) && pattern.CompareAndSwap(pat, nil) {
				p.cut.Add(1)
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// TestLostResult: the connection dies around a batch's statement. When the
// statement committed and only its answer was lost, Append must report
// success without appending the batch again (a retry would duplicate every
// record); when it never reached the server, Append must fail and store
// nothing. Either way the chain verifies.
func TestLostResult(t *testing.T) {
	dsn := testutil.PostgresDSN(t)
	ctx := context.Background()
	direct, err := control.Open(ctx, dsn) // migrates
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { direct.Close() })
	u, _ := url.Parse(dsn)
	p := newCutProxy(t, u.Host)
	u.Host = p.ln.Addr().String()
	via, err := control.Open(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { via.Close() })
	st := &audit.Store{DB: via.DB}
	recs := func(n int) []*audit.Record {
		out := make([]*audit.Record, n)
		for i := range out {
			out[i] = &audit.Record{Time: time.Now(), Interaction: "read", Type: "Patient", Status: 200, Outcome: "success", IDs: []string{fmt.Sprint("Patient/", i)}}
		}
		return out
	}
	count := func() int64 {
		n, err := (&audit.Store{DB: direct.DB}).Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if err := st.Append(ctx, recs(3)); err != nil {
		t.Fatal(err)
	}

	// committed, answer lost
	answer := []byte("INSERT 0 2")
	p.toClient.Store(&answer)
	batch := recs(2)
	if err := st.Append(ctx, batch); err != nil {
		t.Fatalf("a committed batch whose answer was lost reported %v", err)
	}
	if p.cut.Load() != 1 {
		t.Fatal("the proxy never cut the connection: this case tested nothing")
	}
	if n := count(); n != 5 || batch[0].Seq != 4 || batch[1].Seq != 5 {
		t.Fatalf("%d records, seqs %d %d; want 5 records, seqs 4 5", n, batch[0].Seq, batch[1].Seq)
	}

	// never reached the server
	stmt := []byte("INSERT INTO audit_event")
	p.toServer.Store(&stmt)
	if err := st.Append(ctx, recs(4)); err == nil {
		t.Fatal("a batch the server never saw reported success")
	}
	if p.cut.Load() != 2 {
		t.Fatal("the proxy never cut the connection before the statement")
	}
	if n := count(); n != 5 {
		t.Fatalf("%d records after a lost statement, want 5", n)
	}

	// and the store carries on
	if err := st.Append(ctx, recs(1)); err != nil {
		t.Fatal(err)
	}
	rep, err := (&audit.Store{DB: direct.DB}).Verify(ctx)
	if err != nil || rep.Problem != nil || rep.Records != 6 {
		t.Fatalf("verify: %v %+v", err, rep)
	}
}

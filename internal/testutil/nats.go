package testutil

import (
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// NATS is the URL of the JetStream broker event tests publish to
// (FHIRFACADE_TEST_NATS, default nats://127.0.0.1:4222). In CI (CI=true)
// an unreachable broker fails the test; elsewhere it skips.
func NATS(t testing.TB) string {
	u := os.Getenv("FHIRFACADE_TEST_NATS")
	if u == "" {
		u = "nats://127.0.0.1:4222"
	}
	nc, err := nats.Connect(u, nats.Timeout(2*time.Second))
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("NATS with JetStream is required in CI and is not reachable at %s: %v", u, err)
		}
		t.Skipf("NATS not reachable at %s (%v); set FHIRFACADE_TEST_NATS", u, err)
	}
	nc.Close()
	return u
}

package testutil

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// AzuriteKey is the Azure Storage emulator's well-known development
// account key (public, documented by Microsoft; not a secret).
const AzuriteKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

// Azurite is the Azure Storage emulator's blob service (npm azurite,
// pinned in testdata/azurite) running as a child process.
type Azurite struct {
	// BlobURL is the account's blob endpoint
	// (http://127.0.0.1:PORT/devstoreaccount1).
	BlobURL string
}

// ConnectionString is the emulator account's storage connection string.
func (a *Azurite) ConnectionString() string {
	return "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" + AzuriteKey + ";BlobEndpoint=" + a.BlobURL + ";"
}

// StartAzurite starts azurite-blob on a free loopback port, in memory. In
// CI (CI=true) a missing install or a failed start fails the test;
// elsewhere it skips.
func StartAzurite(t testing.TB) *Azurite {
	t.Helper()
	dir := filepath.Join(Root(t), "testdata", "azurite")
	bin := filepath.Join(dir, "node_modules", ".bin", "azurite-blob")
	fail := t.Skipf
	if os.Getenv("CI") == "true" {
		fail = t.Fatalf
	}
	if _, err := os.Stat(bin); err != nil {
		fail("azurite not installed (npm ci in testdata/azurite; .ci/run does): %v", err)
		return nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	l.Close()
	cmd := exec.Command(bin, "--blobHost", "127.0.0.1", "--blobPort", port, "--inMemoryPersistence", "--skipApiVersionCheck", "--silent")
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		fail("start azurite: %v", err)
		return nil
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return &Azurite{BlobURL: "http://" + addr + "/devstoreaccount1"}
		}
	}
	fail("azurite did not answer on %s", addr)
	return nil
}

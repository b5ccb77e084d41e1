package control_test

import (
	"context"
	"strings"
	"testing"

	"github.com/fhirfacade/fhirfacade/control"
)

// TestOpenRefusesMySQL: MySQL/MariaDB is a legacy database only; the
// control store says so, naming its variable, without connecting.
func TestOpenRefusesMySQL(t *testing.T) {
	for _, dsn := range []string{"mysql://root@127.0.0.1:3306/test", "MariaDB://root:secret@127.0.0.1:1/none"} {
		_, err := control.Open(context.Background(), dsn)
		if err == nil || !strings.Contains(err.Error(), "FHIRFACADE_CONTROL_DSN") || !strings.Contains(err.Error(), "MySQL/MariaDB") {
			t.Errorf("%s: %v", dsn, err)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("password in the error: %v", err)
		}
	}
}

package legacy

import (
	"github.com/fhirfacade/fhirfacade/mappings"
	"github.com/fhirfacade/fhirfacade/sqldb"
)

// NewStdlib is New with reads and searches on database/sql whatever the
// dialect: the path PostgreSQL took before its native pgx Reader, kept for
// the test that compares the two.
func NewStdlib(db *sqldb.DB, reg *mappings.Registry) *Backend {
	b := New(db, reg)
	b.read = sqldb.SQLReader(db.DB)
	return b
}

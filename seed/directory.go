package seed

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/fhirfacade/fhirfacade/sqldb"
)

// The provider directory (migration 000002): facilities, their departments
// (the dept codes visits already carry) and the providers. They are fixed
// tables: written once, row by row only where the key is missing, so a
// resumed or repeated seed leaves them as they are.

// Providers is how many providers the seed writes (DR0001..DR0040).
const Providers = 40

// Facility is one row of the facility table.
type Facility struct {
	ID                              int64
	Name, NPI, AltSys, AltID, Type  string
	Phone, Email, Addr, City, State string
	Zip, Country                    string
	Active                          bool
}

// Facilities is the demo facility table: hospitals, a clinic, a reference
// laboratory (with its CLIA number) and a health plan (NAIC code).
var Facilities = []Facility{
	{1, "Springfield General Hospital", npi(101), "", "", "PROV", "217-555-0100", "info@springfield-general.example", "800 E Carpenter St", "Springfield", "IL", "62701", "USA", true},
	{2, "Riverside Medical Center", npi(102), "", "", "PROV", "951-555-0100", "contact@riverside-mc.example", "4445 Magnolia Ave", "Riverside", "CA", "92501", "USA", true},
	{3, "Franklin Community Clinic", npi(103), "", "", "PROV", "615-555-0100", "", "230 Mallory Station Rd", "Franklin", "TN", "37064", "USA", true},
	{4, "Greenville Reference Laboratory", npi(104), "urn:oid:2.16.840.1.113883.4.7", "42D0981234", "PROV", "864-555-0100", "lab@greenville-ref.example", "701 Grove Rd", "Greenville", "SC", "29601", "USA", true},
	{5, "Madison Health Plan", "", "urn:oid:2.16.840.1.113883.6.300", "95555", "PAY", "608-555-0100", "members@madison-plan.example", "1 S Pinckney St", "Madison", "WI", "53703", "USA", false},
}

// Dept is one row of the dept table.
type Dept struct {
	Code     string
	Facility int64
	Name     string
	Status   string // A active, I inactive, S suspended
	Type     string // HL7 v3 RoleCode of the service delivery location
	Phone    string
}

// Depts are the departments visits name in dept_cd (the depts list).
var Depts = []Dept{
	{"CARD", 1, "Cardiology", "A", "CARD", "217-555-0110"},
	{"MED", 1, "Internal Medicine", "A", "HU", "217-555-0120"},
	{"SURG", 1, "General Surgery", "A", "SU", "217-555-0130"},
	{"PEDS", 2, "Pediatrics", "A", "PEDU", "951-555-0140"},
	{"ED", 1, "Emergency Department", "A", "ER", "217-555-0150"},
	{"ONC", 2, "Oncology", "A", "ONCL", "951-555-0160"},
	{"ORTHO", 3, "Orthopedics", "S", "ORTHO", "615-555-0170"},
}

// specialties are the providers' local specialty codes, one per dept (in
// the order of depts): provider n works in depts[(n-1) % len(depts)].
var specialties = []string{"CARD", "IM", "SURG", "PEDS", "EM", "ONC", "ORTHO"}

type provider struct {
	id, npi, last, first, prefix, suffix string
	specialty, phone, email, direct      string
	addr, city, state, zip, active       string
	upd                                  time.Time
}

// ProviderID is the key of provider n (1-based): DR0001.
func ProviderID(n int) string { return fmt.Sprintf("DR%04d", n) }

// npi makes a valid NPI (10 digits, Luhn check digit over the 80840 card
// issuer prefix) from a serial number, so checkers that verify NPIs accept
// the synthetic ones.
func npi(serial int) string {
	base := fmt.Sprintf("1%08d", 10000000+serial*7919%90000000)
	digits := "80840" + base
	sum := 0
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if (len(digits)-1-i)%2 == 0 { // doubled: every second digit from the right, the check digit not yet there
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return base + fmt.Sprint((10-sum%10)%10)
}

func makeProvider(n int) provider {
	r := rand.New(rand.NewPCG(uint64(n), 0xd0c7))
	p := provider{id: ProviderID(n), npi: npi(1000 + n), last: lastNames[r.IntN(len(lastNames))], active: "Y"}
	if r.IntN(2) == 0 {
		p.first = femaleNames[r.IntN(len(femaleNames))]
	} else {
		p.first = maleNames[r.IntN(len(maleNames))]
	}
	dept := (n - 1) % len(depts)
	p.specialty = specialties[dept]
	switch x := r.IntN(10); {
	case x < 6:
		p.prefix, p.suffix = "Dr", "MD"
	case x < 8:
		p.prefix, p.suffix = "Dr", "DO"
	default:
		p.suffix = "NP"
	}
	fac := Facilities[Depts[dept].Facility-1]
	p.addr, p.city, p.state, p.zip = fac.Addr, fac.City, fac.State, fac.Zip
	p.phone = fmt.Sprintf("%s-%04d", fac.Phone[:7], 2000+n)
	if r.IntN(4) != 0 {
		local := strings.ToLower(strings.NewReplacer("'", "", "ú", "u", "ñ", "n", "Ú", "U", "Ñ", "N", "é", "e", "ë", "e").Replace(p.first + "." + p.last))
		p.email = local + "@direct.springfield-health.example"
		p.direct = "Y"
	}
	if r.IntN(10) == 0 {
		p.active = "N"
	}
	p.upd = base.Add(-time.Duration(r.IntN(2*365*24*3600)) * time.Second).Add(time.Duration(r.IntN(1000)) * time.Millisecond)
	return p
}

// deptIndex is a dept code's position in depts (its providers' specialty).
func deptIndex(code string) int {
	for i, d := range depts {
		if d == code {
			return i
		}
	}
	return 0
}

// visitLinks are the directory columns of visit id: the attending provider
// (one of its dept's, none for some planned visits) and the facility of
// the dept. They come from their own random stream, seeded from the visit
// id, so that every other column of the visit stays what it was before the
// directory existed.
func visitLinks(id int64, dept string) (attending, facility any) {
	r := rand.New(rand.NewPCG(uint64(id), 0xa77e))
	i := deptIndex(dept)
	// providers of dept i: i+1, i+1+len(depts), ... up to Providers
	count := (Providers - 1 - i) / len(depts)
	if r.IntN(10) != 0 {
		attending = ProviderID(i + 1 + len(depts)*r.IntN(count+1))
	}
	return attending, Depts[i].Facility
}

// resultPerformer is the provider who signed lab result id (own stream, as
// visitLinks), none for a third of them.
func resultPerformer(id int64) any {
	r := rand.New(rand.NewPCG(uint64(id), 0x9e7f))
	if r.IntN(3) == 0 {
		return nil
	}
	return ProviderID(1 + r.IntN(Providers))
}

// seedDirectory writes the rows of the fixed directory tables whose keys
// are missing.
func seedDirectory(ctx context.Context, db *sqldb.DB) error {
	d := db.Dialect
	var facs, depts, provs [][]any
	for _, f := range Facilities {
		facs = append(facs, []any{f.ID, f.Name, nz(f.NPI), nz(f.AltSys), nz(f.AltID), f.Type, map[bool]string{true: "Y", false: "N"}[f.Active],
			nz(f.Phone), nz(f.Email), f.Addr, f.City, f.State, f.Zip, f.Country, d.TimeArg(base.Add(-90 * 24 * time.Hour))})
	}
	for i, dp := range Depts {
		fac := Facilities[dp.Facility-1]
		depts = append(depts, []any{dp.Code, dp.Facility, dp.Name, dp.Status, dp.Type, npi(200 + i), dp.Phone,
			fac.Addr, fac.City, fac.State, fac.Zip, fac.Country, d.TimeArg(base.Add(-60 * 24 * time.Hour))})
	}
	for n := 1; n <= Providers; n++ {
		p := makeProvider(n)
		provs = append(provs, []any{p.id, p.npi, p.last, p.first, nz(p.prefix), nz(p.suffix), p.specialty, p.phone, nz(p.email), nz(p.direct),
			p.addr, p.city, p.state, p.zip, p.active, d.TimeArg(p.upd.Truncate(time.Millisecond))})
	}
	tables := []struct {
		table, key string
		cols       []string
		rows       [][]any
	}{
		{"facility", "facility_id", []string{"facility_id", "facility_nm", "npi", "alt_id_sys", "alt_id", "org_type_cd", "active_yn", "phone", "email", "addr_line1", "city", "state_cd", "zip_cd", "country_cd", "upd_ts"}, facs},
		{"dept", "dept_cd", []string{"dept_cd", "facility_id", "dept_nm", "status_cd", "loc_type_cd", "npi", "phone", "addr_line1", "city", "state_cd", "zip_cd", "country_cd", "upd_ts"}, depts},
		{"provider", "provider_id", []string{"provider_id", "npi", "last_nm", "first_nm", "name_prefix", "name_suffix", "specialty_cd", "phone", "email", "direct_yn", "addr_line1", "city", "state_cd", "zip_cd", "active_yn", "upd_ts"}, provs},
	}
	w := newWriter(db)
	for _, tb := range tables {
		missing, err := missingRows(ctx, db, tb.table, tb.key, tb.rows)
		if err != nil {
			return fmt.Errorf("seed: %s: %w", tb.table, err)
		}
		if len(missing) == 0 {
			continue
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("seed: %s: %w", tb.table, err)
		}
		if err := w.insert(ctx, tx, tb.table, tb.cols, missing); err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("seed: %s: %w", tb.table, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("seed: %s: %w", tb.table, err)
		}
	}
	return nil
}

// missingRows keeps the rows (key first) whose key the table lacks.
func missingRows(ctx context.Context, db *sqldb.DB, table, key string, rows [][]any) ([][]any, error) {
	rs, err := db.QueryContext(ctx, "SELECT "+key+" FROM "+table)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	have := map[string]bool{}
	for rs.Next() {
		var k sql.NullString
		if err := rs.Scan(&k); err != nil {
			return nil, err
		}
		have[strings.TrimSpace(k.String)] = true
	}
	if err := rs.Err(); err != nil {
		return nil, err
	}
	var out [][]any
	for _, r := range rows {
		if !have[fmt.Sprint(r[0])] {
			out = append(out, r)
		}
	}
	return out, nil
}

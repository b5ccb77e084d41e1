package seed

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
)

// Per-patient counts of the EHR demo schema (migrations.LegacyEHR).
const (
	EHRVisitsPerPatient  = 2
	EHRResultsPerPatient = 8
)

// ehrNamespace is the uuid v5 namespace of every EHR key: a key is a hash of
// its table and row number, the same on every run and every dialect.
var ehrNamespace = uuid.MustParse("6f0d2c4e-1b7a-4e55-9d1e-5a3c8e2b7f10")

func ehrKey(table string, n ...int) string {
	return uuid.NewSHA1(ehrNamespace, fmt.Appendf(nil, "%s/%v", table, n)).String()
}

// EHRPatientGUID is the PatientGUID of EHR patient i (1-based): canonical
// lowercase uuid text.
func EHRPatientGUID(i int) string { return ehrKey("PatientMaster", i) }

// EHRVisitGUID is the VisitGUID of visit j (1-based) of EHR patient i.
func EHRVisitGUID(i, j int) string { return ehrKey("PatientVisit", i, j) }

// EHRResultGUID is the ResultGUID of lab result k (1-based) of EHR patient i.
func EHRResultGUID(i, k int) string { return ehrKey("LabResult", i, k) }

// EHRMRN is the MRN of EHR patient i: digits with leading zeros (a string
// that looks like a number and must stay a string).
func EHRMRN(i int) string { return fmt.Sprintf("%08d", i) }

// EHRCode is one row of a code lookup table (RaceCode, EthnicityCode:
// Code, Description, CDCCode; VisitType: Code, Description, IsInpatient).
type EHRCode struct {
	Code, Description string
	CDC               string // CDCCode; "" is NULL
	Flag              bool   // IsActive, or VisitType.IsInpatient
}

// EHRLabTest is one row of LabTest.
type EHRLabTest struct {
	Local, LOINC, Display, Unit string // LOINC, Unit: "" is NULL
	gen                         func(r *rand.Rand) (num, text, rng, flag string)
}

// The lookup tables' rows. An inactive code and codes without a CDC code
// are deliberate.
var (
	EHRRaceCodes = []EHRCode{
		{"W", "White", "2106-3", true}, {"B", "Black or African American", "2054-5", true},
		{"A", "Asian", "2028-9", true}, {"AI", "American Indian or Alaska Native", "1002-5", true},
		{"PI", "Native Hawaiian or Other Pacific Islander", "2076-8", true}, {"O", "Other Race", "2131-1", true},
		{"UNK", "Unknown", "", true}, {"DECL", "Patient declined", "", true}, {"C", "Caucasian (retired code)", "2106-3", false},
	}
	EHREthnicityCodes = []EHRCode{
		{"H", "Hispanic or Latino", "2135-2", true}, {"N", "Not Hispanic or Latino", "2186-5", true},
		{"U", "Unknown", "", true}, {"D", "Declined", "", true},
	}
	EHRVisitTypes = []EHRCode{
		{"OP", "Outpatient", "", false}, {"IP", "Inpatient", "", true}, {"ER", "Emergency", "", false},
		{"OBS", "Observation", "", false}, {"TELE", "Telehealth", "", false},
	}
	EHRLabTests = []EHRLabTest{
		{"GLU", "2345-7", "Glucose [Mass/volume] in Serum or Plasma", "mg/dL", ehrNum(60, 250, 0, 70, 99)},
		{"K", "2823-3", "Potassium [Moles/volume] in Serum or Plasma", "mmol/L", ehrNum(3.0, 5.8, 1, 3.5, 5.1)},
		{"CREAT", "2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL", ehrNum(0.5, 2.5, 2, 0.6, 1.3)},
		{"HGB", "718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL", ehrNum(9, 18, 1, 12, 17.5)},
		{"HBA1C", "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "%", ehrNum(4.5, 11, 1, 4, 5.6)},
		{"CRP", "1988-5", "C reactive protein [Mass/volume] in Serum or Plasma", "mg/L", func(r *rand.Rand) (string, string, string, string) {
			if r.IntN(3) == 0 {
				return "", "<0.5", "<5.0", "N"
			}
			return ehrNum(0.5, 40, 1, 0, 5)(r)
		}},
		{"HCG", "2106-3", "Choriogonadotropin (pregnancy test) [Presence] in Urine", "", func(r *rand.Rand) (string, string, string, string) {
			if r.IntN(5) == 0 {
				return "", "positive", "negative", "A"
			}
			return "", "negative", "negative", "N"
		}},
		{"SENDOUT", "", "Miscellaneous send-out test", "", func(r *rand.Rand) (string, string, string, string) {
			return "", []string{"See scanned report", "Pending at reference lab"}[r.IntN(2)], "", ""
		}},
	}
)

// ehrNum draws a value with dec significant decimals, written as the
// decimal(12,4) column returns it (trailing zeros: "5.4000").
func ehrNum(lo, hi float64, dec int, refLo, refHi float64) func(r *rand.Rand) (string, string, string, string) {
	return func(r *rand.Rand) (string, string, string, string) {
		v := lo + r.Float64()*(hi-lo)
		s := fmt.Sprintf("%.*f", dec, v)
		var f float64
		_, _ = fmt.Sscan(s, &f)
		flag := "N"
		if f < refLo {
			flag = "L"
		} else if f > refHi {
			flag = "H"
		}
		return fmt.Sprintf("%.4f", f), "", fmt.Sprintf("%.*f-%.*f", dec, refLo, dec, refHi), flag
	}
}

// EHRPatient is EHR patient i as seeded. Strings: "" is NULL. Times carry
// the offset they are stored with: a datetimeoffset column stores the
// instant and that offset; a datetime2 column stores the wall clock only.
type EHRPatient struct {
	N                           int
	GUID, MRN, Site             string
	Last, First, Middle, Prefix string // Prefix is the "Name Prefix" column
	DOB                         *time.Time
	Sex, Race, Ethnicity        string
	Address, City, State, Zip   string
	Lat, Lon                    string // decimal(9,6) text, e.g. "39.781721"
	Phone, SSN                  string
	DeathDate                   *time.Time // datetime2(0)
	Active                      bool
	ModifiedAt                  *time.Time // datetimeoffset(7); nil: NULL
	CreatedAt                   time.Time  // datetime2(7)
	Visits                      []EHRVisit
	Results                     []EHRResult
}

// EHRVisit is one PatientVisit row.
type EHRVisit struct {
	GUID, Number, Type, Status, Department string
	Admit                                  time.Time  // datetimeoffset(0)
	Discharge                              *time.Time // datetimeoffset(0)
	ModifiedAt                             time.Time  // datetime2(3), server wall clock
}

// EHRResult is one LabResult row. Numeric and Charge are decimal text with
// four decimals ("5.4000"), "" when NULL.
type EHRResult struct {
	GUID, VisitGUID, Test             string
	Numeric, Text, Units, Range, Flag string
	Status, Charge, Provider          string
	CollectedAt                       time.Time // datetimeoffset(0)
	ModifiedAt                        time.Time // datetimeoffset(7)
}

// ehrSites: the site a patient belongs to, its UTC offset in standard time
// (US daylight-saving rules apply) and where its patients live.
var ehrSites = []struct {
	code   string
	std    int
	cities []ehrCity
}{
	{"NORTH", -5, []ehrCity{{"Albany", "NY", "12207", 42.652580, -73.756233}, {"Hartford", "CT", "06103", 41.763710, -72.685097}}},
	{"SOUTH", -6, []ehrCity{{"Nashville", "TN", "37203", 36.162663, -86.781601}, {"Memphis", "TN", "38103", 35.149532, -90.048981}}},
}

type ehrCity struct {
	city, state, zip string
	lat, lon         float64
}

// serverStd is the standard-time offset of the database server's clock,
// which every datetime2 column holds (US Eastern, like the NORTH site).
const serverStd = -5

// usLocal is t in the US zone whose standard offset is std hours, with the
// daylight-saving rules in force since 2007 (second Sunday of March to the
// first Sunday of November, 02:00 local). Computed rather than loaded from
// tzdata, so the data never depends on the host's zone database.
func usLocal(t time.Time, std int) time.Time {
	sunday := func(m time.Month, nth int) time.Time {
		d := time.Date(t.Year(), m, 1, 0, 0, 0, 0, time.UTC)
		d = d.AddDate(0, 0, (7-int(d.Weekday()))%7)
		return d.AddDate(0, 0, 7*(nth-1))
	}
	start := sunday(time.March, 2).Add(time.Duration(2-std) * time.Hour)
	end := sunday(time.November, 1).Add(time.Duration(2-std-1) * time.Hour)
	off := std
	if !t.Before(start) && t.Before(end) {
		off++
	}
	return t.In(time.FixedZone("", off*3600))
}

// utc is t at offset +00:00, as rows written by the interface engine are.
func utc(t time.Time) time.Time { return t.In(time.FixedZone("", 0)) }

// EHRPatientData builds EHR patient i (1-based) with its visits and
// results; the same i always gives the same values. The deliberate oddities
// follow i so that a few patients always show them:
//   - i%5 == 0: ModifiedAt NULL (never touched since the conversion);
//   - i%7 == 0: ModifiedAt written at +00:00 (by the interface engine);
//   - i%25 == 7: DeathDate set, IsActive false;
//   - i%4 == 0: a "Name Prefix"; i%3 == 1: a MiddleName; otherwise NULL;
//   - i%50 == 17: DOB NULL; i%40 == 23: SexCode NULL;
//   - i%30 == 29: no address at all (Address1 to Longitude NULL);
//   - i%6 == 5 (with an address): Latitude/Longitude NULL (not geocoded);
//   - result k%4 == 0: CollectedAt and ModifiedAt at +00:00 (reference lab).
func EHRPatientData(i int) EHRPatient {
	r := rand.New(rand.NewPCG(uint64(i), 0xe4)) //nolint:gosec // synthetic data
	site := ehrSites[(i+1)%2]
	p := EHRPatient{N: i, GUID: EHRPatientGUID(i), MRN: EHRMRN(i), Site: site.code, Active: true}
	p.Last = lastNames[r.IntN(len(lastNames))]
	female := r.IntN(2) == 0
	names, prefixes := maleNames, []string{"Mr.", "Dr."}
	p.Sex = "M"
	if female {
		names, prefixes, p.Sex = femaleNames, []string{"Mrs.", "Ms.", "Dr."}, "F"
	}
	p.First = names[r.IntN(len(names))]
	if r.IntN(30) == 0 {
		p.Sex = "U"
	}
	if i%40 == 23 {
		p.Sex = ""
	}
	if i%3 == 1 {
		p.Middle = []string{"Ann", "Lee", "Marie", "J", "Ray"}[r.IntN(5)]
	}
	if i%4 == 0 {
		p.Prefix = prefixes[r.IntN(len(prefixes))]
	}
	if i%50 != 17 {
		p.DOB = tp(time.Date(1930+r.IntN(90), time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC))
	}
	ehrDemographics(&p, r, site.cities)
	created := time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.Int64N(int64(5 * 365 * 24 * time.Hour))))
	p.CreatedAt = usLocal(created.Truncate(time.Microsecond), serverStd)
	if i%25 == 7 {
		p.DeathDate = tp(usLocal(base.Add(-time.Duration(r.IntN(3*365*24*3600))*time.Second), serverStd))
		p.Active = false
	}
	if i%5 != 0 {
		mod := usLocal(created.Add(time.Duration(r.Int64N(int64(base.Sub(created)))).Truncate(time.Microsecond)), site.std)
		if i%7 == 0 {
			mod = utc(mod)
		}
		p.ModifiedAt = &mod
	}
	for j := 1; j <= EHRVisitsPerPatient; j++ {
		p.Visits = append(p.Visits, ehrVisit(r, i, j, site.std))
	}
	for k := 1; k <= EHRResultsPerPatient; k++ {
		p.Results = append(p.Results, ehrResult(r, &p, k, site.std))
	}
	return p
}

// ehrDemographics fills race, ethnicity, address, phone and SSN, each NULL
// now and then, in the formats a registration desk types.
func ehrDemographics(p *EHRPatient, r *rand.Rand, cities []ehrCity) {
	// weighted like a US registry; "C" is a retired code older rows keep
	races := []string{"W", "W", "W", "W", "W", "B", "B", "A", "O", "UNK", "DECL", "C", "AI", "PI"}
	if r.IntN(12) != 0 {
		p.Race = races[r.IntN(len(races))]
	}
	if r.IntN(10) != 0 {
		p.Ethnicity = []string{"N", "N", "N", "N", "N", "H", "H", "U", "D"}[r.IntN(9)]
	}
	if p.N%30 != 29 {
		c := cities[r.IntN(len(cities))]
		p.Address = fmt.Sprintf("%d %s", 1+r.IntN(9999), streets[r.IntN(len(streets))])
		p.City, p.State, p.Zip = c.city, c.state, c.zip
		if r.IntN(3) == 0 {
			p.Zip += fmt.Sprintf("-%04d", r.IntN(10000))
		}
		if p.N%6 != 5 {
			p.Lat = fmt.Sprintf("%.6f", c.lat+(r.Float64()-0.5)/10)
			p.Lon = fmt.Sprintf("%.6f", c.lon+(r.Float64()-0.5)/10)
		}
	}
	// 555-0100..0199 are the fictional numbers; four ways of typing one
	area, line, style := []string{"518", "860", "615", "901"}[r.IntN(4)], r.IntN(100), r.IntN(5)
	p.Phone = []string{
		fmt.Sprintf("(%s) 555-01%02d", area, line), fmt.Sprintf("%s-555-01%02d", area, line),
		fmt.Sprintf("%s.555.01%02d", area, line), fmt.Sprintf("%s55501%02d", area, line), "",
	}[style]
	if r.IntN(8) != 0 {
		// 9xx area numbers are never issued: obviously synthetic
		p.SSN = fmt.Sprintf("9%02d-%02d-%04d", r.IntN(100), 1+r.IntN(99), 1+r.IntN(9999))
	}
}

func ehrVisit(r *rand.Rand, i, j, std int) EHRVisit {
	v := EHRVisit{GUID: EHRVisitGUID(i, j), Number: fmt.Sprintf("V%08d-%d", i, j), Department: depts[r.IntN(len(depts))]}
	v.Type = []string{"OP", "OP", "OP", "IP", "ER", "OBS", "TELE"}[r.IntN(7)]
	admit := base.Add(-time.Duration(r.IntN(5*365*24*60)) * time.Minute)
	switch x := r.IntN(20); {
	case x == 0:
		v.Status = "P"
		admit = base.Add(time.Duration(1+r.IntN(60*24)) * time.Hour)
	case x == 1:
		v.Status = "X"
	case x < 4:
		v.Status = "A"
	default:
		v.Status = "D"
		stay := time.Duration(30+r.IntN(240)) * time.Minute
		if v.Type == "IP" {
			stay = time.Duration(24+r.IntN(24*10)) * time.Hour
		}
		v.Discharge = tp(usLocal(admit.Add(stay), std))
	}
	if r.IntN(10) == 0 {
		v.Department = ""
	}
	v.Admit = usLocal(admit, std)
	upd := admit.Add(time.Duration(r.IntN(3600_000)) * time.Millisecond)
	if v.Discharge != nil {
		upd = v.Discharge.Add(time.Duration(r.IntN(3600_000)) * time.Millisecond)
	}
	v.ModifiedAt = usLocal(upd, serverStd)
	return v
}

// ehrProviders are the ordering providers: synthetic NPIs of people who are
// no table of this schema.
var ehrProviders = []string{"NPI:1234567893", "NPI:1588667638", "NPI:1497758544", "NPI:1003000126", "NPI:1245319599"}

func ehrResult(r *rand.Rand, p *EHRPatient, k, std int) EHRResult {
	t := EHRLabTests[r.IntN(len(EHRLabTests))]
	num, text, rng, flag := t.gen(r)
	res := EHRResult{GUID: EHRResultGUID(p.N, k), Test: t.Local, Numeric: num, Text: text, Range: rng, Flag: flag}
	res.Status = []string{"F", "F", "F", "F", "F", "F", "P", "C"}[r.IntN(8)]
	if r.IntN(40) == 0 {
		res.Status, res.Numeric, res.Text, res.Flag = "X", "", "", ""
	}
	if num != "" && r.IntN(3) != 0 {
		res.Units = t.Unit
	}
	var at time.Time
	if v := p.Visits[r.IntN(len(p.Visits))]; r.IntN(4) != 0 && v.Status != "X" {
		res.VisitGUID = v.GUID
		at = v.Admit.Add(time.Duration(r.IntN(120)) * time.Minute)
	} else {
		at = base.Add(-time.Duration(r.IntN(5*365*24*60)) * time.Minute)
	}
	if r.IntN(5) != 0 {
		res.Charge = fmt.Sprintf("%d.%02d00", 5+r.IntN(300), []int{0, 25, 50, 75, 99}[r.IntN(5)])
	}
	if r.IntN(6) != 0 {
		res.Provider = ehrProviders[r.IntN(len(ehrProviders))]
	}
	mod := at.Add(time.Duration(2+r.IntN(48))*time.Hour + time.Duration(r.IntN(1e6))*time.Microsecond)
	res.CollectedAt, res.ModifiedAt = usLocal(at, std), usLocal(mod, std)
	if k%4 == 0 {
		res.CollectedAt, res.ModifiedAt = utc(at), utc(mod)
	}
	return res
}

package scaffold

import (
	"strings"
	"testing"

	"github.com/fhirfacade/fhirfacade/sqldb"
)

// TestGuessRole: column names as both demo schemas and other real schemas
// spell them, and the element each one is guessed to be.
func TestGuessRole(t *testing.T) {
	const (
		txt = sqldb.KindText
		in  = sqldb.KindInt
		dat = sqldb.KindDate
		dt  = sqldb.KindDateTime
		ins = sqldb.KindInstant
		dec = sqldb.KindDecimal
		bit = sqldb.KindBool
	)
	cases := []struct {
		typ, name string
		kind      sqldb.Kind
		want      role
	}{
		{"Patient", "upd_ts", dt, rLastUpdated},
		{"Patient", "ModifiedAt", ins, rLastUpdated},
		{"Encounter", "LAST_UPD_DTTM", dt, rLastUpdated},
		{"Patient", "last_updated", ins, rLastUpdated},
		{"Patient", "upd_user", txt, rNone},
		{"Patient", "upd_ts", txt, rNone}, // a time kept as text is no version stamp
		{"Patient", "CreatedAt", dt, rNone},
		{"Patient", "mrn", txt, rIdentifier},
		{"Patient", "MRN", txt, rIdentifier},
		{"Patient", "MedicalRecordNumber", in, rIdentifier},
		{"Patient", "last_nm", txt, rFamily},
		{"Patient", "LastName", txt, rFamily},
		{"Patient", "Surname", txt, rFamily},
		{"Patient", "first_nm", txt, rGiven},
		{"Patient", "MiddleName", txt, rGiven},
		{"Patient", "Name Prefix", txt, rPrefix},
		{"Patient", "birth_dt", dat, rBirthDate},
		{"Patient", "DOB", dat, rBirthDate},
		{"Patient", "DateOfBirth", txt, rBirthDate},
		{"Patient", "sex_cd", txt, rGender},
		{"Patient", "SexCode", txt, rGender},
		{"Patient", "Gender", in, rGender},
		{"Patient", "DeathDate", dt, rDeathDate},
		{"Patient", "deceased_dttm", dt, rDeathDate},
		{"Patient", "deceased_yn", txt, rDeceasedFlag},
		{"Patient", "IsDeceased", bit, rNone},
		{"Patient", "phone_home", txt, rPhone},
		{"Patient", "HomePhone", txt, rPhone},
		{"Patient", "Email", txt, rEmail},
		{"Patient", "addr_line1", txt, rLine},
		{"Patient", "Address1", txt, rLine},
		{"Patient", "city", txt, rCity},
		{"Patient", "state_cd", txt, rState},
		{"Patient", "StateCode", txt, rState},
		{"Patient", "Zip", txt, rPostal},
		{"Patient", "zip_cd", txt, rPostal},
		{"Patient", "Latitude", dec, rNone},
		{"Patient", "SSN", txt, rNone},
		{"Patient", "status", txt, rNone}, // an Encounter rule only
		{"Encounter", "VisitNumber", txt, rIdentifier},
		{"Encounter", "visit_status_cd", txt, rStatus},
		{"Encounter", "StatusCode", txt, rStatus},
		{"Encounter", "visit_type_cd", txt, rClass},
		{"Encounter", "VisitTypeCode", txt, rClass},
		{"Encounter", "admit_dttm", dt, rStart},
		{"Encounter", "AdmitDateTime", ins, rStart},
		{"Encounter", "disch_dttm", dt, rEnd},
		{"Encounter", "DischargeDateTime", ins, rEnd},
		{"Encounter", "admit_dttm", txt, rNone},
		{"Encounter", "Department", txt, rService},
		{"Encounter", "dept_cd", txt, rService},
		{"Encounter", "attending_id", txt, rNone},
		{"Observation", "lab_accession", txt, rIdentifier},
		{"Observation", "result_status", txt, rStatus},
		{"Observation", "ResultStatus", txt, rStatus},
		{"Observation", "local_test_cd", txt, rCode},
		{"Observation", "TestCode", txt, rCode},
		{"Observation", "collected_dttm", dt, rEffective},
		{"Observation", "CollectedAt", ins, rEffective},
		{"Observation", "result_val", txt, rValue},
		{"Observation", "NumericValue", dec, rValue},
		{"Observation", "TextValue", txt, rValueText},
		{"Observation", "Units", txt, rUnit},
		{"Observation", "result_unit", txt, rUnit},
		{"Observation", "abn_flag", txt, rInterp},
		{"Observation", "AbnormalFlag", txt, rInterp},
		{"Observation", "ref_range", txt, rRefRange},
		{"Observation", "ReferenceRange", txt, rRefRange},
		{"Observation", "Charge", dec, rNone},
		{"Observation", "OrderingProviderID", txt, rNone},
	}
	for _, c := range cases {
		if got := guessRole(c.typ, sqldb.Column{Name: c.name, Kind: c.kind}); got != c.want {
			t.Errorf("%s %s (%s): %q, want %q", c.typ, c.name, c.kind, got, c.want)
		}
	}
}

// TestGuessType: table names and the resource type they suggest.
func TestGuessType(t *testing.T) {
	for name, want := range map[string]string{
		"pat_master": "Patient", "PatientMaster": "Patient", "PERSON": "Patient", "tblPatients": "Patient",
		"visit": "Encounter", "PatientVisit": "Encounter", "hosp_admission": "Encounter", "ENCOUNTERS": "Encounter",
		"lab_result": "Observation", "LabResult": "Observation", "vw_LabResultDetail": "Observation", "ObservationFact": "Observation",
		"RaceCode": "", "billing": "", "compat_table": "",
	} {
		if got := GuessType(name); got != want {
			t.Errorf("GuessType(%s) = %q, want %q", name, got, want)
		}
	}
}

func TestWords(t *testing.T) {
	for in, want := range map[string]string{
		"PatientVisit": "patient visit", "vw_LabResultDetail": "vw lab result detail",
		"HTTPLog": "http log", "pat_master": "pat master", "Name Prefix": "name prefix",
	} {
		if got := strings.Join(words(in), " "); got != want {
			t.Errorf("words(%s) = %q, want %q", in, got, want)
		}
	}
}

// TestLookupOf: a code lookup has few columns, a text key and a
// description; a table of rows is none.
func TestLookupOf(t *testing.T) {
	col := func(n string, k sqldb.Kind) sqldb.Column { return sqldb.Column{Name: n, Kind: k} }
	pk := func(c string) sqldb.Keys { return sqldb.Keys{Primary: []string{c}} }
	cases := []struct {
		name string
		cols []sqldb.Column
		keys sqldb.Keys
		desc string
	}{
		{"VisitType", []sqldb.Column{col("Code", sqldb.KindText), col("Description", sqldb.KindText), col("IsInpatient", sqldb.KindBool)}, pk("Code"), "Description"},
		{"lab_test_code", []sqldb.Column{col("local_cd", sqldb.KindText), col("loinc_cd", sqldb.KindText), col("loinc_display", sqldb.KindText), col("default_unit", sqldb.KindText)}, pk("local_cd"), "loinc_display"},
		{"int key", []sqldb.Column{col("id", sqldb.KindInt), col("name", sqldb.KindText)}, pk("id"), ""},
		{"no description", []sqldb.Column{col("cd", sqldb.KindText), col("rank", sqldb.KindInt)}, pk("cd"), ""},
		{"composite key", []sqldb.Column{col("a", sqldb.KindText), col("b", sqldb.KindText), col("label", sqldb.KindText)}, sqldb.Keys{Primary: []string{"a", "b"}}, ""},
		{"wide", []sqldb.Column{col("cd", sqldb.KindText), col("desc", sqldb.KindText), col("c3", sqldb.KindText), col("c4", sqldb.KindText), col("c5", sqldb.KindText), col("c6", sqldb.KindText), col("c7", sqldb.KindText)}, pk("cd"), ""},
	}
	for _, c := range cases {
		desc, ok := lookupOf(c.cols, c.keys)
		if desc != c.desc || ok != (c.desc != "") {
			t.Errorf("%s: %q %v, want %q", c.name, desc, ok, c.desc)
		}
	}
}

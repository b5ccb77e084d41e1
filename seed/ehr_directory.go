package seed

import (
	"time"

	"github.com/fhirfacade/fhirfacade/sqldb"
)

// The EHR schema's provider directory (legacy_ehr migration 000003):
// facilities, departments keyed by the codes PatientVisit.Department holds,
// and the providers whose ProviderKey LabResult.OrderingProviderID holds.
// Fixed rows, written where their key is missing (with the code tables).

// EHRFacilityGUID is the key of facility n (1-based).
func EHRFacilityGUID(n int) string { return ehrKey("FacilityMaster", n) }

// EHRProviderGUID is the key of the provider with ProviderKey key.
func EHRProviderGUID(key string) string { return ehrKey("Provider/" + key) }

// ehrFacilities are the EHR's facilities (the first demo schema's first
// three, under the EHR's own keys).
var ehrFacilities = Facilities[:3]

// ehrProviderNames are the people behind ehrProviders, in its order.
var ehrProviderNames = [][3]string{{"Bone", "Ronald", "MD"}, {"Fielding", "Kathy", "MD"}, {"Nurse", "Nancy", "RN"}, {"Douglas", "Dispenser", "PharmD"}, {"Okafor", "Adaeze", "DO"}}

// ehrDirectory is the rows of the three directory tables, in the order
// their foreign keys need.
func ehrDirectory(d sqldb.Dialect) []struct {
	table string
	rows  [][]any
} {
	a := ehrArgs{d: d}
	stamp := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	var facs, depts, provs [][]any
	for i, f := range ehrFacilities {
		facs = append(facs, []any{EHRFacilityGUID(i + 1), f.Name, nz(f.NPI), f.Phone, f.Addr, f.City, f.State, f.Zip, sqldb.BoolArg(d, f.Active), a.wall(&stamp, 3)})
	}
	for _, dp := range Depts {
		depts = append(depts, []any{dp.Code, dp.Name, EHRFacilityGUID(int(dp.Facility)), dp.Phone, sqldb.BoolArg(d, dp.Status == "A"), a.wall(&stamp, 3)})
	}
	for i, key := range ehrProviders {
		n := ehrProviderNames[i]
		provs = append(provs, []any{EHRProviderGUID(key), key, key[len("NPI:"):], n[0], n[1], n[2], nil, sqldb.BoolArg(d, true), a.wall(&stamp, 3)})
	}
	return []struct {
		table string
		rows  [][]any
	}{{"FacilityMaster", facs}, {"Department", depts}, {"ProviderMaster", provs}}
}

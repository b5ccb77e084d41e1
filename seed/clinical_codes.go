package seed

// The demo code sets of the clinical lists (migration 000003). Real codes
// of real code systems, few enough to read; the drug and vaccine tables are
// seeded as lookup tables, the others live only in the rows.

// Problem is one entry of the problem list's code set: SNOMED CT, ICD-10-CM
// (empty: the legacy row holds no ICD-10 code) and the local description.
type Problem struct{ SNOMED, ICD10, Desc string }

// Problems is the problem-list code set.
var Problems = []Problem{
	{"44054006", "E11.9", "Diabetes mellitus type 2"},
	{"38341003", "I10", "Essential hypertension"},
	{"55822004", "E78.5", "Hyperlipidemia"},
	{"195967001", "J45.909", "Asthma"},
	{"13645005", "J44.9", "Chronic obstructive lung disease"},
	{"35489007", "F32.9", "Depressive disorder"},
	{"49436004", "I48.91", "Atrial fibrillation"},
	{"709044004", "N18.9", "Chronic kidney disease"},
	{"396275006", "M19.90", "Osteoarthritis"},
	{"235595009", "K21.9", "Gastroesophageal reflux disease"},
	{"68566005", "N39.0", "Urinary tract infection"},
	{"51868009", "", "Ulcer of duodenum"},
}

// Allergen is one substance of the allergy list with its category code
// (M medication, F food, E environment).
type Allergen struct{ SNOMED, Desc, Cat string }

// Allergens is the allergy list's substance set.
var Allergens = []Allergen{
	{"764146007", "Penicillin", "M"},
	{"387207008", "Ibuprofen", "M"},
	{"763875007", "Product containing sulfonamide", "M"},
	{"256349002", "Peanut", "F"},
	{"227493005", "Cashew nut", "F"},
	{"256259004", "Pollen", "E"},
	{"111088007", "Latex", "E"},
}

// reactions are the allergy reactions (SNOMED CT finding, description).
var reactions = [][2]string{
	{"271807003", "Skin rash"}, {"247472004", "Hives"}, {"39579001", "Anaphylaxis"},
	{"267036007", "Dyspnea"}, {"418290006", "Itching"},
}

// Drug is one row of the drug_code lookup table: local code, RxNorm code
// and name.
type Drug struct{ Local, RxNorm, Name string }

// Drugs is the drug_code table. The last two are the drugs of the US Core
// medication request examples, so those can be written back.
var Drugs = []Drug{
	{"LISIN10", "314076", "lisinopril 10 MG Oral Tablet"},
	{"METF500", "861007", "metformin hydrochloride 500 MG Oral Tablet"},
	{"ATOR20", "617310", "atorvastatin 20 MG Oral Tablet"},
	{"AMLO5", "197361", "amlodipine 5 MG Oral Tablet"},
	{"IBU200", "310965", "ibuprofen 200 MG Oral Tablet"},
	{"APAP325", "313782", "acetaminophen 325 MG Oral Tablet"},
	{"AMOX250", "308182", "amoxicillin 250 MG Oral Capsule"},
	{"NIZA15", "476872", "Nizatidine 15 MG/ML Oral Solution"},
	{"TYLPM", "1187314", "Tylenol PM Pill"},
}

var sigs = []string{"1 tablet by mouth daily", "1 tablet by mouth twice daily", "1 tablet by mouth at bedtime",
	"1-2 tablets by mouth every 6 hours as needed for pain", "10 mL by mouth twice daily"}

// Vaccine is one row of the vacc_code lookup table (CVX code and name).
type Vaccine struct{ CVX, Name string }

// Vaccines is the vacc_code table.
var Vaccines = []Vaccine{
	{"140", "Influenza, seasonal, injectable, preservative free"},
	{"208", "COVID-19, mRNA, LNP-S, PF, 30 mcg/0.3 mL dose"},
	{"115", "Tdap"},
	{"33", "pneumococcal polysaccharide vaccine, 23 valent"},
	{"133", "pneumococcal conjugate vaccine, 13 valent"},
	{"43", "hepatitis B vaccine, adult dosage"},
	{"187", "zoster vaccine recombinant"},
	{"03", "measles, mumps and rubella virus vaccine"},
}

// lookupOnlyVaccines are in the vacc_code table but never drawn for a
// patient (so the draws stay as they were): the vaccine of the US Core
// immunization example, which can then be written back.
var lookupOnlyVaccines = []Vaccine{
	{"197", "Influenza, high-dose, quadrivalent, PF"},
}

// refusals are the local reasons an immunization was not given (HL7
// v3 ActReason codes, as the legacy system stores them).
var refusals = []string{"PATOBJ", "MEDPREC", "IMMUNE", "OSTOCK"}

// ProcCode is one procedure of the procedure log's code set: CPT, SNOMED CT
// (empty: none recorded) and the local description.
type ProcCode struct{ CPT, SNOMED, Desc string }

// ProcCodes is the procedure log's code set.
var ProcCodes = []ProcCode{
	{"45378", "73761001", "Colonoscopy"},
	{"93000", "29303009", "Electrocardiogram"},
	{"71046", "399208008", "Chest X-ray, 2 views"},
	{"36415", "22778000", "Venipuncture"},
	{"27447", "609588000", "Total knee replacement"},
	{"47562", "45595009", "Laparoscopic cholecystectomy"},
	{"33249", "", "Insertion of implantable defibrillator"},
}

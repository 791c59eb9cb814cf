"""Code systems, extension URLs and the value-set tables the mappers translate chart values with.

Chart-value tables are keyed by the lower-cased chart value (see ``_common.lookup``); the values are
FHIR codes or ``(code, display)`` pairs. System URIs follow HL7 Terminology (THO) and US Core.
"""

# --- Code systems -------------------------------------------------------------------------------
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICD10PCS = "http://www.cms.gov/Medicare/Coding/ICD10"
CPT = "http://www.ama-assn.org/go/cpt"
# THO's CodeSystem hcpcs-Level-II declares the http:// form as its url.
HCPCS = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
CVX = "http://hl7.org/fhir/sid/cvx"
MVX = "http://hl7.org/fhir/sid/mvx"
UNII = "http://fdasis.nlm.nih.gov"
NDFRT = "http://hl7.org/fhir/ndfrt"
UCUM = "http://unitsofmeasure.org"
NPI = "http://hl7.org/fhir/sid/us-npi"
BCP47 = "urn:ietf:bcp:47"
CDC_RACE_ETHNICITY = "urn:oid:2.16.840.1.113883.6.238"
THO = "http://terminology.hl7.org/CodeSystem/"
NULL_FLAVOR = THO + "v3-NullFlavor"
# Occupational Data for Health (CDC PHIN VADS): the code system of US Core occupation and industry answers.
ODH = "urn:oid:2.16.840.1.114222.4.5.327"
IDENTIFIER_TYPE = THO + "v2-0203"
DIAGNOSTIC_SERVICE = THO + "v2-0074"
APPOINTMENT_REASON = THO + "v2-0276"
PERFORMER_FUNCTION = THO + "v2-0443"
CONDITION_CATEGORY = THO + "condition-category"
ACT_CODE = THO + "v3-ActCode"
PARTICIPATION_TYPE = THO + "v3-ParticipationType"
NUBC_DISCHARGE = "http://www.nubc.org/patient-discharge"
CONDITION_CLINICAL = THO + "condition-clinical"
CONDITION_VERIFICATION = THO + "condition-ver-status"
ALLERGY_CLINICAL = THO + "allergyintolerance-clinical"
ALLERGY_VERIFICATION = THO + "allergyintolerance-verification"
MEDREQUEST_CATEGORY = THO + "medicationrequest-category"
OBSERVATION_CATEGORY = THO + "observation-category"
INTERPRETATION = THO + "v3-ObservationInterpretation"
ACT_REASON = THO + "v3-ActReason"
ACT_SITE = THO + "v3-ActSite"
ROUTE_OF_ADMINISTRATION = THO + "v3-RouteOfAdministration"
DATA_ABSENT_REASON = THO + "data-absent-reason"
US_CORE_CONDITION_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/condition-category"
US_CORE_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/us-core-category"
US_CORE_CAREPLAN_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/careplan-category"

# --- Extensions ---------------------------------------------------------------------------------
EXT_RACE = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race"
EXT_ETHNICITY = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity"
EXT_BIRTHSEX = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex"
EXT_SEX = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-sex"
EXT_TRIBAL = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-tribal-affiliation"
TRIBAL_ENTITY = THO + "v3-TribalEntityUS"
GTS_ABBREVIATION = THO + "v3-GTSAbbreviation"
# Coded SIG frequencies -> Timing.repeat; the codes are R4's TimingAbbreviation (v3 GTSAbbreviation) and
# 'when' uses R4 EventTiming (MORN, HS).
SIG_TIMING = {
    "qd": {"frequency": 1, "period": 1, "periodUnit": "d"},
    "bid": {"frequency": 2, "period": 1, "periodUnit": "d"},
    "tid": {"frequency": 3, "period": 1, "periodUnit": "d"},
    "qid": {"frequency": 4, "period": 1, "periodUnit": "d"},
    "q4h": {"frequency": 1, "period": 4, "periodUnit": "h"},
    "q6h": {"frequency": 1, "period": 6, "periodUnit": "h"},
    "q8h": {"frequency": 1, "period": 8, "periodUnit": "h"},
    "am": {"frequency": 1, "period": 1, "periodUnit": "d", "when": ["MORN"]},
    "bed": {"frequency": 1, "period": 1, "periodUnit": "d", "when": ["HS"]},
}
EXT_DATA_ABSENT_REASON = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"

# --- Patient demographics -----------------------------------------------------------------------
GENDER = {"f": "female", "m": "male", "o": "other", "u": "unknown"}
# us-core-birthsex allows only F, M and UNK.
BIRTH_SEX = {"f": "F", "m": "M", "o": "UNK", "u": "UNK"}
# us-core-sex (6.1.0) binds valueCode to VSAC 2.16.840.1.113762.1.4.1240.3: SNOMED female, male and
# indeterminate sex, and v3 NullFlavor UNK (the codes of the package's Patient-example).
SEX_RECORDED = {"f": "248152002", "m": "248153007", "i": "32570681000036106", "u": "UNK"}
# v3-TribalEntityUS displays for the tribes our charts hold; other codes are sent without a display.
TRIBE = {
    "170": "Navajo Nation, Arizona, New Mexico & Utah",
    "187": "Paiute-Shoshone Tribe of the Fallon Reservation and Colony, Nevada",
}
RACE = {
    "1002-5": "American Indian or Alaska Native",
    "2028-9": "Asian",
    "2054-5": "Black or African American",
    "2076-8": "Native Hawaiian or Other Pacific Islander",
    "2106-3": "White",
}
ETHNICITY = {"2135-2": "Hispanic or Latino", "2186-5": "Not Hispanic or Latino"}
# v3-NullFlavor displays (THO CodeSystem v3-NullFlavor: ASKU "asked but unknown", information was sought but
# not found). ASKU is not "declined": US Core 3.1.1's omb-race-category lists it as "Asked but no answer",
# and "asked-declined" is a different code (the DataAbsentReason one in US Core 6.1's sex value set).
NULL_FLAVOR_DISPLAY = {"UNK": "unknown", "ASKU": "asked but unknown"}
NULL_FLAVOR_TEXT = {"UNK": "Unknown", "ASKU": "Asked but unknown"}
# The choices a chart's race and ethnicity take, in words: the OMB categories, then UNK and ASKU, which
# US Core's ombCategory binding also allows. The console's choices and the Profile page read these.
RACE_CHOICES = {**RACE, **NULL_FLAVOR_TEXT}
ETHNICITY_CHOICES = {**ETHNICITY, **NULL_FLAVOR_TEXT}
LANGUAGE = {
    "am": "Amharic",
    "ar": "Arabic",
    "ase": "American Sign Language",
    "bn": "Bengali",
    "de": "German",
    "el": "Greek",
    "en": "English",
    "es": "Spanish",
    "fa": "Persian",
    "fr": "French",
    "gu": "Gujarati",
    "he": "Hebrew",
    "hi": "Hindi",
    "hmn": "Hmong",
    "ht": "Haitian",
    "it": "Italian",
    "ja": "Japanese",
    "km": "Khmer",
    "ko": "Korean",
    "lo": "Lao",
    "ne": "Nepali",
    "pa": "Punjabi",
    "pl": "Polish",
    "pt": "Portuguese",
    "ru": "Russian",
    "so": "Somali",
    "sw": "Swahili",
    "tl": "Tagalog",
    "uk": "Ukrainian",
    "ur": "Urdu",
    "vi": "Vietnamese",
    "zh": "Chinese",
    "en-us": "English (United States)",
    "es-mx": "Spanish (Mexico)",
    "zh-cn": "Chinese (China)",
    "zh-tw": "Chinese (Taiwan)",
    "pt-br": "Portuguese (Brazil)",
}

# --- Condition ----------------------------------------------------------------------------------
CONDITION_CATEGORIES = {
    "problem-list-item": (CONDITION_CATEGORY, "problem-list-item", "Problem List Item"),
    "problem": (CONDITION_CATEGORY, "problem-list-item", "Problem List Item"),
    "encounter-diagnosis": (CONDITION_CATEGORY, "encounter-diagnosis", "Encounter Diagnosis"),
    "diagnosis": (CONDITION_CATEGORY, "encounter-diagnosis", "Encounter Diagnosis"),
    "health-concern": (US_CORE_CONDITION_CATEGORY, "health-concern", "Health Concern"),
}
CONDITION_CLINICAL_STATUS = {
    "active": ("active", "Active"),
    "recurrence": ("recurrence", "Recurrence"),
    "relapse": ("relapse", "Relapse"),
    "inactive": ("inactive", "Inactive"),
    "remission": ("remission", "Remission"),
    "resolved": ("resolved", "Resolved"),
}
CONDITION_VERIFICATION_STATUS = {
    "unconfirmed": ("unconfirmed", "Unconfirmed"),
    "provisional": ("provisional", "Provisional"),
    "differential": ("differential", "Differential"),
    "confirmed": ("confirmed", "Confirmed"),
    "refuted": ("refuted", "Refuted"),
    "entered-in-error": ("entered-in-error", "Entered in Error"),
}

# --- AllergyIntolerance -------------------------------------------------------------------------
ALLERGY_CLINICAL_STATUS = {
    "active": ("active", "Active"),
    "inactive": ("inactive", "Inactive"),
    "resolved": ("resolved", "Resolved"),
}
ALLERGY_VERIFICATION_STATUS = {
    "unconfirmed": ("unconfirmed", "Unconfirmed"),
    "confirmed": ("confirmed", "Confirmed"),
    "refuted": ("refuted", "Refuted"),
    "entered-in-error": ("entered-in-error", "Entered in Error"),
}
ALLERGY_SUBSTANCE_SYSTEM = {"rxnorm": RXNORM, "snomed": SNOMED, "unii": UNII, "ndfrt": NDFRT}
ALLERGY_CATEGORY = {
    "food": "food",
    "medication": "medication",
    "drug": "medication",
    "environment": "environment",
    "environmental": "environment",
    "biologic": "biologic",
}
ALLERGY_CRITICALITY = {
    "low": "low",
    "high": "high",
    "unable-to-assess": "unable-to-assess",
    "unable to assess": "unable-to-assess",
}
REACTION_SEVERITY = {"mild": "mild", "moderate": "moderate", "severe": "severe"}

# --- Medications --------------------------------------------------------------------------------
MEDICATION_REQUEST_STATUS = {
    "active": "active",
    "completed": "completed",
    "stopped": "stopped",
    "discontinued": "stopped",
    "on-hold": "on-hold",
    "held": "on-hold",
    "suspended": "on-hold",
    "cancelled": "cancelled",
    "entered-in-error": "entered-in-error",
    "intended": "draft",
    "draft": "draft",
    "unknown": "unknown",
}
MEDICATION_STATEMENT_STATUS = {
    "active": "active",
    "completed": "completed",
    "stopped": "stopped",
    "discontinued": "stopped",
    "on-hold": "on-hold",
    "held": "on-hold",
    "suspended": "on-hold",
    "cancelled": "stopped",
    "entered-in-error": "entered-in-error",
    "intended": "intended",
    "draft": "intended",
    "not-taken": "not-taken",
    "unknown": "unknown",
}
# A formulary item's status -> R4 medication-status (required binding).
FORMULARY_STATUS = {
    "active": "active",
    "inactive": "inactive",
    "retired": "inactive",
    "entered-in-error": "entered-in-error",
}
MEDICATION_INTENT = {"prescribed": "order", "reported": "plan"}
# SNOMED CT route of administration concepts (FHIR R4 "SNOMED CT Route Codes").
ROUTE = {
    "oral": ("26643006", "Oral route"),
    "po": ("26643006", "Oral route"),
    "intravenous": ("47625008", "Intravenous route"),
    "iv": ("47625008", "Intravenous route"),
    "intramuscular": ("78421000", "Intramuscular route"),
    "im": ("78421000", "Intramuscular route"),
    "subcutaneous": ("34206005", "Subcutaneous route"),
    "sc": ("34206005", "Subcutaneous route"),
    "subq": ("34206005", "Subcutaneous route"),
    "topical": ("6064005", "Topical route"),
    "sublingual": ("37839007", "Sublingual route"),
    "sl": ("37839007", "Sublingual route"),
    "rectal": ("37161004", "Rectal route"),
    "pr": ("37161004", "Rectal route"),
    "transdermal": ("45890007", "Transdermal route"),
    "nasal": ("46713006", "Nasal route"),
    "ophthalmic": ("54485002", "Ophthalmic route"),
    "otic": ("10547007", "Otic route"),
    "vaginal": ("16857009", "Vaginal route"),
    "inhalation": ("447694001", "Respiratory tract route"),
    "inhaled": ("447694001", "Respiratory tract route"),
}

# --- Immunization -------------------------------------------------------------------------------
IMMUNIZATION_STATUS = {
    "completed": "completed",
    "not-done": "not-done",
    "refused": "not-done",
    "declined": "not-done",
    "entered-in-error": "entered-in-error",
}
# Charted sex of a lab reference range -> SNOMED CT code of the R4 referencerange-appliesto value set.
REFERENCE_RANGE_SEX = {"F": ("248152002", "Female"), "M": ("248153007", "Male")}
IMMUNIZATION_NOT_DONE_REASON = {
    "immune": ("IMMUNE", "immunity"),
    "immunity": ("IMMUNE", "immunity"),
    "medprec": ("MEDPREC", "medical precaution"),
    "medical precaution": ("MEDPREC", "medical precaution"),
    "ostock": ("OSTOCK", "product out of stock"),
    "out of stock": ("OSTOCK", "product out of stock"),
    "patobj": ("PATOBJ", "patient objection"),
    "patient objection": ("PATOBJ", "patient objection"),
    "refused": ("PATOBJ", "patient objection"),
    "declined": ("PATOBJ", "patient objection"),
}
IMMUNIZATION_ROUTE = {
    "im": ("IM", "Injection, intramuscular"),
    "intramuscular": ("IM", "Injection, intramuscular"),
    "sq": ("SQ", "Injection, subcutaneous"),
    "sc": ("SQ", "Injection, subcutaneous"),
    "subq": ("SQ", "Injection, subcutaneous"),
    "subcutaneous": ("SQ", "Injection, subcutaneous"),
    "id": ("IDINJ", "Injection, intradermal"),
    "intradermal": ("IDINJ", "Injection, intradermal"),
    "iv": ("IVINJ", "Injection, intravenous"),
    "intravenous": ("IVINJ", "Injection, intravenous"),
    "po": ("PO", "Swallow, oral"),
    "oral": ("PO", "Swallow, oral"),
    "in": ("NASINHLC", "Inhalation, nasal"),
    "nasal": ("NASINHLC", "Inhalation, nasal"),
    "intranasal": ("NASINHLC", "Inhalation, nasal"),
    "trnsderm": ("TRNSDERM", "Transdermal"),
    "transdermal": ("TRNSDERM", "Transdermal"),
}
IMMUNIZATION_SITE = {
    "la": ("LA", "left arm"),
    "left arm": ("LA", "left arm"),
    "ra": ("RA", "right arm"),
    "right arm": ("RA", "right arm"),
    "ld": ("LD", "left deltoid"),
    "left deltoid": ("LD", "left deltoid"),
    "rd": ("RD", "right deltoid"),
    "right deltoid": ("RD", "right deltoid"),
    "lt": ("LT", "left thigh"),
    "left thigh": ("LT", "left thigh"),
    "rt": ("RT", "right thigh"),
    "right thigh": ("RT", "right thigh"),
    "lvl": ("LVL", "left vastus lateralis"),
    "left vastus lateralis": ("LVL", "left vastus lateralis"),
    "rvl": ("RVL", "right vastus lateralis"),
    "right vastus lateralis": ("RVL", "right vastus lateralis"),
}
MANUFACTURER = {
    "pfr": "Pfizer, Inc",
    "mod": "Moderna US, Inc.",
    "skb": "GlaxoSmithKline",
    "msd": "Merck and Co., Inc.",
    "pmc": "Sanofi Pasteur",
    "seq": "Seqirus",
    "jsn": "Janssen",
    "nov": "Novavax, Inc.",
}

# --- Procedure, CarePlan ------------------------------------------------------------------------
PROCEDURE_CODE_SYSTEM = {"cpt": CPT, "snomed": SNOMED, "hcpcs": HCPCS, "icd10pcs": ICD10PCS}
PROCEDURE_STATUS = {
    "preparation": "preparation",
    "in-progress": "in-progress",
    "not-done": "not-done",
    "on-hold": "on-hold",
    "stopped": "stopped",
    "completed": "completed",
    "done": "completed",
    "entered-in-error": "entered-in-error",
    "unknown": "unknown",
}
CAREPLAN_STATUS = {
    "draft": "draft",
    "active": "active",
    "on-hold": "on-hold",
    "revoked": "revoked",
    "cancelled": "revoked",
    "completed": "completed",
    "entered-in-error": "entered-in-error",
    "unknown": "unknown",
}
CAREPLAN_INTENT = {"proposal": "proposal", "plan": "plan", "order": "order", "option": "option"}

# --- Laboratory ---------------------------------------------------------------------------------
OBSERVATION_STATUS = {
    "registered": "registered",
    "preliminary": "preliminary",
    "final": "final",
    "amended": "amended",
    "corrected": "corrected",
    "cancelled": "cancelled",
    "entered-in-error": "entered-in-error",
    "unknown": "unknown",
}
REPORT_STATUS = {
    "registered": "registered",
    "partial": "partial",
    "preliminary": "preliminary",
    "final": "final",
    "amended": "amended",
    "corrected": "corrected",
    "appended": "appended",
    "cancelled": "cancelled",
    "entered-in-error": "entered-in-error",
    "unknown": "unknown",
}
INTERPRETATION_DISPLAY = {
    "H": "High",
    "L": "Low",
    "N": "Normal",
    "A": "Abnormal",
    "HH": "Critical high",
    "LL": "Critical low",
    "POS": "Positive",
    "NEG": "Negative",
}
# Charted unit spellings -> UCUM codes; a unit missing here and from UCUM_CODES gets no code.
UCUM_ALIASES = {
    "x10^3/ul": "10*3/uL",
    "10^3/ul": "10*3/uL",
    "k/ul": "10*3/uL",
    "x10e3/ul": "10*3/uL",
    "x10^6/ul": "10*6/uL",
    "10^6/ul": "10*6/uL",
    "m/ul": "10*6/uL",
    "x10e6/ul": "10*6/uL",
    "meq/l": "meq/L",
    "iu/l": "[IU]/L",
    "miu/l": "m[IU]/L",
    "uiu/ml": "u[IU]/mL",
    "miu/ml": "m[IU]/mL",
    "mcg": "ug",
    "mcg/dl": "ug/dL",
    "mcg/ml": "ug/mL",
    "mcg/l": "ug/L",
    "ml/min/1.73m2": "mL/min/{1.73_m2}",
    "ml/min/1.73 m2": "mL/min/{1.73_m2}",
    "mmhg": "mm[Hg]",
    "sec": "s",
    "mm/hr": "mm/h",
    "cells/ul": "/uL",
    "degc": "Cel",
    "lb": "[lb_av]",
    "lbs": "[lb_av]",
    "in": "[in_i]",
    "degf": "[degF]",
    "bpm": "/min",
    "beats/min": "/min",
    "breaths/min": "/min",
    "l/min": "L/min",
    "lpm": "L/min",
}
UCUM_CODES = frozenset(
    {
        "%",
        "g/dL",
        "g/L",
        "mg/dL",
        "mg/L",
        "mg",
        "g",
        "kg",
        "ug",
        "ng",
        "mL",
        "L",
        "dL",
        "mmol/L",
        "umol/L",
        "nmol/L",
        "pmol/L",
        "meq/L",
        "U/L",
        "[IU]/L",
        "[IU]",
        "m[IU]/L",
        "u[IU]/mL",
        "m[IU]/mL",
        "ng/mL",
        "ng/dL",
        "pg/mL",
        "ug/dL",
        "ug/mL",
        "ug/L",
        "fL",
        "pg",
        "10*3/uL",
        "10*6/uL",
        "/uL",
        "mL/min/{1.73_m2}",
        "mm[Hg]",
        "s",
        "min",
        "h",
        "mm/h",
        "/d",
        "Cel",
        "[degF]",
        "cm",
        "[in_i]",
        "[lb_av]",
        "kg/m2",
        "/min",
        "L/min",
        "{ratio}",
        "{score}",
    }
)
V2_0276_DISPLAY = {
    "ROUTINE": "Routine appointment - default if not valued",
    "WALKIN": "A previously unscheduled walk-in visit",
    "CHECKUP": "A routine check-up, such as an annual physical",
    "FOLLOWUP": "A follow up visit from a previous appointment",
    "EMERGENCY": "Emergency appointment",
}
APPOINTMENT_STATUS = {
    "proposed": "proposed",
    "pending": "pending",
    "booked": "booked",
    "scheduled": "booked",
    "arrived": "arrived",
    "checked-in": "checked-in",
    "fulfilled": "fulfilled",
    "completed": "fulfilled",
    "cancelled": "cancelled",
    "canceled": "cancelled",
    "noshow": "noshow",
    "no-show": "noshow",
    "entered-in-error": "entered-in-error",
    "waitlist": "waitlist",
}

# Encounter.status (R4 encounter-status, required) from the chart's visit status.
ENCOUNTER_STATUS = {
    "planned": "planned",
    "arrived": "arrived",
    "triaged": "triaged",
    "in-progress": "in-progress",
    "in progress": "in-progress",
    "onleave": "onleave",
    "finished": "finished",
    "completed": "finished",
    "closed": "finished",
    "cancelled": "cancelled",
    "canceled": "cancelled",
    "entered-in-error": "entered-in-error",
    "unknown": "unknown",
}
# Encounter.class: v3 ActEncounterCode (extensible), display as the code system gives it.
ENCOUNTER_CLASS = {
    "amb": ("AMB", "ambulatory"),
    "imp": ("IMP", "inpatient encounter"),
    "emer": ("EMER", "emergency"),
    "vr": ("VR", "virtual"),
    "hh": ("HH", "home health"),
    "obsenc": ("OBSENC", "observation encounter"),
}
# Encounter.type: US Core's us-core-encounter-type is SNOMED CT (308335008 and below) or CPT.
ENCOUNTER_TYPE_SYSTEM = {"cpt": CPT, "snomed": SNOMED}
# hospitalization.dischargeDisposition: NUBC UB-04 FL17 patient status codes (us-core-discharge-disposition).
DISCHARGE_DISPOSITION = {
    "01": "Discharged to home or self care (routine discharge)",
    "02": "Discharged/transferred to a short-term general hospital for inpatient care",
    "03": "Discharged/transferred to a skilled nursing facility (SNF)",
    "06": "Discharged/transferred to home under care of organized home health service organization",
    "07": "Left against medical advice or discontinued care",
    "20": "Expired",
}


# --- Orders (ServiceRequest) and specimens ------------------------------------------------------
SPECIMEN_CONDITION_SYSTEM = THO + "v2-0493"
# ServiceRequest.code: the procedure code systems (us-core-procedure-code, extensible) and LOINC for lab orders.
ORDER_CODE_SYSTEM = {"loinc": LOINC, **PROCEDURE_CODE_SYSTEM}
# ServiceRequest.category:us-core (required): us-core-servicerequest-category = the us-core-category codes, two
# SNOMED CT codes of its own and the base servicerequest-category (SNOMED CT) codes.
ORDER_CATEGORY = {
    "lab": (SNOMED, "108252007", "Laboratory procedure"),
    "imaging": (SNOMED, "363679005", "Imaging"),
    "counselling": (SNOMED, "409063005", "Counselling"),
    "counseling": (SNOMED, "409063005", "Counselling"),
    "education": (SNOMED, "409073007", "Education"),
    "surgical": (SNOMED, "387713003", "Surgical procedure"),
    "evaluation": (SNOMED, "386053000", "Evaluation procedure (procedure)"),
    "social-service": (SNOMED, "410606002", "Social service procedure (procedure)"),
    "sdoh": (US_CORE_CATEGORY, "sdoh", "SDOH"),
    "functional-status": (US_CORE_CATEGORY, "functional-status", "Functional Status"),
    "disability-status": (US_CORE_CATEGORY, "disability-status", "Disability Status"),
    "cognitive-status": (US_CORE_CATEGORY, "cognitive-status", "Cognitive Status"),
}
# ServiceRequest.status (R4 request-status, required) from the order entry's status.
ORDER_STATUS = {
    "draft": "draft",
    "active": "active",
    "pending": "active",
    "scheduled": "active",
    "on-hold": "on-hold",
    "held": "on-hold",
    "revoked": "revoked",
    "cancelled": "revoked",
    "canceled": "revoked",
    "discontinued": "revoked",
    "completed": "completed",
    "resulted": "completed",
    "entered-in-error": "entered-in-error",
    "unknown": "unknown",
}
# ServiceRequest.intent (R4 request-intent, required).
ORDER_INTENT = {
    code: code
    for code in (
        "proposal",
        "plan",
        "directive",
        "order",
        "original-order",
        "reflex-order",
        "filler-order",
        "instance-order",
        "option",
    )
}
# ServiceRequest.priority (R4 request-priority, required).
ORDER_PRIORITY = {"routine": "routine", "urgent": "urgent", "asap": "asap", "stat": "stat"}
# Specimen.condition: HL7 v2 table 0493 (the R4 binding, extensible).
SPECIMEN_CONDITION = {
    "aut": ("AUT", "Autolyzed"),
    "cfu": ("CFU", "Centrifuged"),
    "clot": ("CLOT", "Clotted"),
    "con": ("CON", "Contaminated"),
    "cool": ("COOL", "Cool"),
    "froz": ("FROZ", "Frozen"),
    "hem": ("HEM", "Hemolyzed"),
    "live": ("LIVE", "Live"),
    "room": ("ROOM", "Room temperature"),
    "snr": ("SNR", "Sample not received"),
}


def icd10cm(code):
    """Return an ICD-10-CM code in its dotted FHIR form ('E119' -> 'E11.9'), or None."""
    if not code:
        return None
    code = code.strip().upper()
    if "." not in code and len(code) > 3:
        code = f"{code[:3]}.{code[3:]}"
    return code


def ucum(unit):
    """Return the UCUM code for a charted unit, or None when the unit is not known UCUM."""
    if not unit:
        return None
    unit = unit.strip()
    # A curly-braced annotation ('{tablet}', '{puff}') is a valid UCUM unit of its own (unity).
    if unit in UCUM_CODES or (unit.startswith("{") and unit.endswith("}") and len(unit) > 2):
        return unit
    return UCUM_ALIASES.get(unit.lower())


# --- Simple observations (US Core 6.1.0 us-core-simple-observation) --------------------------------
# The EHR's kind of finding -> its category coding (us-core-simple-observation-category: us-core-category and
# observation-category). 6.1.0 has no ``clinical-test`` code (5.0.1's clinical-test profile is gone): a clinical
# test (ECG, spirometry) is observation-category ``procedure``, "observations generated by other procedures ...
# (e.g. cardiology catheterization, endoscopy, electrodiagnostics)", as US Core's EKG impression example is.
FINDING_CATEGORY = {
    "exam": (OBSERVATION_CATEGORY, "exam", "Exam"),
    "procedure": (OBSERVATION_CATEGORY, "procedure", "Procedure"),
    "clinical test": (OBSERVATION_CATEGORY, "procedure", "Procedure"),
    "activity": (OBSERVATION_CATEGORY, "activity", "Activity"),
    "therapy": (OBSERVATION_CATEGORY, "therapy", "Therapy"),
    "imaging": (OBSERVATION_CATEGORY, "imaging", "Imaging"),
    "functional status": (US_CORE_CATEGORY, "functional-status", "Functional Status"),
    "cognitive status": (US_CORE_CATEGORY, "cognitive-status", "Cognitive Status"),
    "disability status": (US_CORE_CATEGORY, "disability-status", "Disability Status"),
}
# The categories us-core-observation-clinical-result also takes (us-core-clinical-result-observation-category).
CLINICAL_RESULT_CATEGORIES = frozenset({"exam", "procedure", "activity", "therapy", "imaging"})


# --- Contacts, care teams, goals, insurance (US Core RelatedPerson, CareTeam, Goal, Coverage) ---
V3_ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
# HL7 v3 RoleCode personal relationships a chart keeps for contacts (RelatedPerson.relationship).
CONTACT_RELATIONSHIP = {
    "mth": ("MTH", "mother"),
    "fth": ("FTH", "father"),
    "prn": ("PRN", "parent"),
    "guard": ("GUARD", "guardian"),
    "sps": ("SPS", "spouse"),
    "dompart": ("DOMPART", "domestic partner"),
    "chld": ("CHILD", "child"),
    "child": ("CHILD", "child"),
    "dau": ("DAU", "natural daughter"),
    "son": ("SON", "natural son"),
    "sib": ("SIB", "sibling"),
    "grprn": ("GRPRN", "grandparent"),
    "frnd": ("FRND", "unrelated friend"),
    "nbor": ("NBOR", "neighbor"),
}
CARE_TEAM_STATUS = {s: s for s in ("proposed", "active", "suspended", "inactive", "entered-in-error")}
GOAL_LIFECYCLE_STATUS = {
    s: s for s in ("proposed", "planned", "accepted", "active", "on-hold", "completed", "cancelled", "entered-in-error")
} | {"rejected": "rejected"}
COVERAGE_STATUS = {s: s for s in ("active", "cancelled", "draft", "entered-in-error")}
SUBSCRIBER_RELATIONSHIP = "http://terminology.hl7.org/CodeSystem/subscriber-relationship"
COVERAGE_RELATIONSHIP = {s: s for s in ("self", "spouse", "child", "parent", "common", "injured", "other")}
# PHDSC Source of Payment Typology, the code system of Coverage.type's binding (US Core 6.1.0,
# VSAC 2.16.840.1.114222.4.11.3591 "Payer").
PAYMENT_TYPOLOGY = "urn:oid:2.16.840.1.113883.3.221.5"
COVERAGE_CLASS = "http://terminology.hl7.org/CodeSystem/coverage-class"
V2_IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
NUCC_TAXONOMY = "http://nucc.org/provider-taxonomy"
# --- Device, MedicationDispense, Location, PractitionerRole (US Core 6.1.0) ---------------------------
ROLE_CODE = THO + "v3-RoleCode"
ACT_CODE = THO + "v3-ActCode"
# FHIR R4 Device, "Handling the UDI": GS1 carriers name the GS1 issuer and the FDA jurisdiction.
GS1_DI = "http://hl7.org/fhir/NamingSystem/gs1-di"
FDA_UDI = "http://hl7.org/fhir/NamingSystem/fda-udi"

# implants.status -> Device.status (FHIR R4 device-status).
DEVICE_STATUS = {
    "active": "active",
    "implanted": "active",
    "inactive": "inactive",
    "explanted": "inactive",
    "removed": "inactive",
    "entered in error": "entered-in-error",
    "entered-in-error": "entered-in-error",
    "unknown": "unknown",
}
# dispenses.status (the pharmacy's words) -> MedicationDispense.status (medicationdispense-status, required).
DISPENSE_STATUS = {
    "filled": "completed",
    "picked up": "completed",
    "completed": "completed",
    "preparing": "preparation",
    "in progress": "in-progress",
    "on hold": "on-hold",
    "cancelled": "cancelled",
    "declined": "declined",
    "stopped": "stopped",
    "returned": "stopped",
    "entered in error": "entered-in-error",
    "unknown": "unknown",
}
# dispenses.fill_type -> MedicationDispense.type (v3 ActPharmacySupplyType, extensible), code and display.
DISPENSE_TYPE = {
    "first fill": ("FF", "First Fill"),
    "refill": ("RF", "Refill"),
    "trial fill": ("TF", "Trial Fill"),
    "partial fill": ("FFP", "First Fill - Part Fill"),
    "emergency supply": ("EM", "Emergency Supply"),
}
# locations.status -> Location.status (location-status, required).
LOCATION_STATUS = {"active": "active", "suspended": "suspended", "closed": "inactive", "inactive": "inactive"}


# --- Screening instruments (US Core screening assessment, QuestionnaireResponse) ---------------
EXT_DISPLAY = "http://hl7.org/fhir/StructureDefinition/display"
# LOINC publishes its panels as FHIR Questionnaires whose canonical is this prefix plus the panel code.
LOINC_QUESTIONNAIRE = "http://loinc.org/q/"
# A screening-found Condition's second category (us-core-screening-assessment-condition-category: the
# us-core-category codes).
ASSESSMENT_CATEGORIES = {
    "sdoh": (US_CORE_CATEGORY, "sdoh", "SDOH"),
    "functional-status": (US_CORE_CATEGORY, "functional-status", "Functional Status"),
    "disability-status": (US_CORE_CATEGORY, "disability-status", "Disability Status"),
    "cognitive-status": (US_CORE_CATEGORY, "cognitive-status", "Cognitive Status"),
}
# QuestionnaireResponse.status (R4 questionnaire-answers-status, required) from the administration's status.
SCREENING_STATUS = {
    "completed": "completed",
    "in-progress": "in-progress",
    "amended": "amended",
    "entered-in-error": "entered-in-error",
    "stopped": "stopped",
}
# The Observation status of each answer: an unfinished screening's answers are preliminary.
SCREENING_OBSERVATION_STATUS = {
    "completed": "final",
    "in-progress": "preliminary",
    "amended": "amended",
    "entered-in-error": "entered-in-error",
    "stopped": "final",
}

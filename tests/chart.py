"""A small hand-made chart with known values, for tests that assert exact search results."""

from gateway import store


def build(db):
    """Load one practice, one provider, two patients and a few rows of each kind; return nothing."""
    ins = store.insert_rows
    ins(
        db,
        "practices",
        [
            {
                "id": 1,
                "uid": "org-1",
                "name": "Test Practice",
                "npi": "1234567893",
                "mrn_system": "urn:oid:2.16.840.1.113883.3.9999.42",
            }
        ],
    )
    ins(
        db,
        "providers",
        [
            {
                "id": 1,
                "uid": "prac-1",
                "practice_id": 1,
                "npi": "1245319599",
                "first_name": "Ann",
                "last_name": "Osler",
                "credentials": "MD",
            }
        ],
    )
    ins(
        db,
        "patients",
        [
            {
                "id": 1,
                "uid": "pat-1",
                "practice_id": 1,
                "mrn": "M001",
                "first_name": "José",
                "last_name": "Ramírez",
                "birth_date": "1980-05-17",
                "sex": "M",
                "race_code": "2106-3",
                "ethnicity_code": "2135-2",
                "preferred_language": "es",
                "phone": "555-010-0001",
                "provider_id": 1,
                "city": "Springfield",
            },
            {
                "id": 2,
                "uid": "pat-2",
                "practice_id": 1,
                "mrn": "M002",
                "first_name": "Anna",
                "last_name": "Smith",
                "birth_date": "2015-03-02",
                "sex": "F",
                "race_code": "2054-5",
                "ethnicity_code": "2186-5",
                "preferred_language": "en",
                "provider_id": 1,
            },
        ],
    )
    ins(
        db,
        "diagnoses",
        [
            {
                "id": 1,
                "uid": "dx-1",
                "patient_id": 1,
                "icd10_code": "E11.9",
                "snomed_code": "44054006",
                "description": "Type 2 diabetes mellitus",
                "onset_date": "2019-03-10",
                "provider_id": 1,
                "recorded_at": "2019-03-10T15:00:00Z",
            },
            {
                "id": 2,
                "uid": "dx-2",
                "patient_id": 1,
                "icd10_code": "I10",
                "snomed_code": "38341003",
                "description": "Essential hypertension",
                "status": "resolved",
                "onset_date": "2015-06-01",
                "resolved_date": "2020-01-01",
                "provider_id": 1,
            },
            {
                "id": 3,
                "uid": "dx-3",
                "patient_id": 1,
                "icd10_code": "Z59.0",
                "description": "Homelessness",
                "category": "health-concern",
                "onset_date": "2023-11-20",
            },
            {
                "id": 4,
                "uid": "dx-4",
                "patient_id": 2,
                "icd10_code": "J45.909",
                "snomed_code": "195967001",
                "description": "Asthma",
                "onset_date": "2021-09-01",
            },
        ],
    )
    ins(
        db,
        "lab_results",
        [
            {
                "id": 1,
                "uid": "lab-1",
                "patient_id": 1,
                "panel_loinc": "24323-8",
                "panel_name": "Comprehensive metabolic panel",
                "collected_at": "2024-01-15T09:00:00Z",
                "reported_at": "2024-01-15T15:00:00Z",
                "shared_with_patient": 1,
                "provider_id": 1,
            },
            {
                "id": 2,
                "uid": "lab-2",
                "patient_id": 1,
                "panel_loinc": "4548-4",
                "panel_name": "Hemoglobin A1c",
                "collected_at": "2024-03-01T09:00:00Z",
                "shared_with_patient": 0,
                "provider_id": 1,
            },
        ],
    )
    ins(
        db,
        "lab_observations",
        [
            {
                "id": 1,
                "uid": "obs-1",
                "lab_result_id": 1,
                "patient_id": 1,
                "loinc_code": "2345-7",
                "name": "Glucose",
                "value_num": 130,
                "unit": "mg/dL",
                "ref_low": 70,
                "ref_high": 99,
                "interpretation": "H",
            },
            {
                "id": 2,
                "uid": "obs-2",
                "lab_result_id": 1,
                "patient_id": 1,
                "loinc_code": "2160-0",
                "name": "Creatinine",
                "value_num": 0.9,
                "unit": "mg/dL",
                "ref_low": 0.6,
                "ref_high": 1.2,
                "interpretation": "N",
            },
            {
                "id": 3,
                "uid": "obs-3",
                "lab_result_id": 2,
                "patient_id": 1,
                "loinc_code": "4548-4",
                "name": "HbA1c",
                "value_num": 7.9,
                "unit": "%",
                "ref_high": 5.7,
                "interpretation": "H",
            },
        ],
    )
    ins(
        db,
        "appointments",
        [
            {
                "id": 1,
                "uid": "appt-1",
                "patient_id": 1,
                "provider_id": 1,
                "start_at": "2024-01-10T15:00:00Z",
                "end_at": "2024-01-10T15:30:00Z",
                "status": "fulfilled",
                "visit_type": "Follow-up",
            },
            {
                "id": 2,
                "uid": "appt-2",
                "patient_id": 1,
                "provider_id": 1,
                "start_at": "2027-02-01T16:00:00Z",
                "end_at": "2027-02-01T16:30:00Z",
                "status": "booked",
                "visit_type": "Annual physical",
            },
        ],
    )

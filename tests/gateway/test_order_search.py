"""ServiceRequest and Specimen searches of US Core 6.1.0 (SHALL and SHOULD) against Maria's demo orders and
specimens with her own patient token, exact results; the order and specimen references on her results and
procedures resolve with the same token."""

import pytest

from fixtures.demo_data import PATIENTS
from fixtures.demo_practice import uid
from gateway import store
from gateway.store.errors import ChartError

FHIR = "/fhir"
MARIA = uid("patients", "maria")
KEALA = uid("patients", "keala")
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"


@pytest.fixture(scope="module")
def chart(demo_db_path):
    """Maria's served orders and specimens as the chart keeps them: ({uid: order row}, {uid: specimen row}); those
    whose every lab result is withheld from her are withheld too (test_the_order_and_specimen_of_a_withheld_...)."""
    db = store.connect(demo_db_path)
    patient = store.chart_rows(db, "patients", uid=MARIA)[0]
    withheld = {
        column: {
            r[0] for r in db.execute(f"SELECT {column} FROM lab_results GROUP BY 1 HAVING max(shared_with_patient) = 0")
        }
        for column in ("order_id", "specimen_id")
    }
    orders = {
        r["uid"]: r
        for r in store.chart_rows(db, "orders", patient_id=patient["id"])
        if r["id"] not in withheld["order_id"]
    }
    specimens = {
        r["uid"]: r
        for r in store.chart_rows(db, "specimens", patient_id=patient["id"])
        if r["id"] not in withheld["specimen_id"]
    }
    assert withheld["order_id"] and withheld["specimen_id"]  # the demo withholds one of Maria's results
    return orders, specimens


@pytest.fixture
def orders(chart):
    return chart[0]


@pytest.fixture
def find(client, auth):
    headers = auth("patient/*.rs", patient=MARIA)

    def run(query, expect=200):
        response = client.get(f"{FHIR}/{query}", headers=headers)
        assert response.status_code == expect, response.get_json(force=True)
        bundle = response.get_json(force=True)
        return sorted(e["resource"]["id"] for e in bundle.get("entry", []) if e["search"]["mode"] == "match")

    return run


def _where(rows, **wanted):
    return sorted(u for u, row in rows.items() if all(row[k] == v for k, v in wanted.items()))


def test_maria_is_served_four_lab_orders_a_screening_and_a_food_pantry_referral(orders):
    assert sorted((row["category"], row["status"], row["code"]) for row in orders.values()) == [
        ("evaluation", "completed", "G0444"),
        # not ("lab", "active", "4548-4"): the A1c not yet shared with her is withheld, and so is its order
        ("lab", "completed", "24323-8"),
        ("lab", "completed", "4548-4"),
        ("lab", "completed", "4548-4"),
        ("lab", "completed", "57698-3"),
        ("sdoh", "active", "467771000124109"),
    ]


@pytest.mark.parametrize("patient", [MARIA, f"Patient/{MARIA}"])
def test_patient_finds_every_order_and_specimen_get_and_post(find, client, auth, chart, patient):
    orders, specimens = chart
    headers = auth("patient/*.rs", patient=MARIA)
    for rtype, expected in (("ServiceRequest", orders), ("Specimen", specimens)):
        assert find(f"{rtype}?patient={patient}") == sorted(expected)
        response = client.post(f"{FHIR}/{rtype}/_search", data={"patient": patient}, headers=headers)
        assert sorted(e["resource"]["id"] for e in response.get_json()["entry"]) == sorted(expected)
    assert len(specimens) == 4


def test_id_finds_one_order_and_one_specimen(find, chart):
    orders, specimens = chart
    order, specimen = sorted(orders)[0], sorted(specimens)[0]
    assert find(f"ServiceRequest?_id={order}") == [order]
    assert find(f"Specimen?_id={specimen}") == [specimen]
    assert find(f"ServiceRequest?_id={order}&patient={MARIA}") == [order]


def test_patient_and_category(find, orders):
    labs = _where(orders, category="lab")
    assert len(labs) == 4
    assert find(f"ServiceRequest?patient={MARIA}&category={SNOMED}|108252007") == labs
    assert find(f"ServiceRequest?patient={MARIA}&category=108252007") == labs
    assert find(f"ServiceRequest?patient={MARIA}&category=sdoh") == _where(orders, category="sdoh")
    assert find(f"ServiceRequest?patient={MARIA}&category={SNOMED}|363679005") == []


def test_patient_and_code_as_system_and_code_and_as_code(find, orders):
    a1c = _where(orders, code="4548-4")
    assert len(a1c) == 2
    assert find(f"ServiceRequest?patient={MARIA}&code={LOINC}|4548-4") == a1c
    assert find(f"ServiceRequest?patient={MARIA}&code=4548-4") == a1c
    assert find(f"ServiceRequest?patient={MARIA}&code={SNOMED}|4548-4") == []


def test_patient_and_status_one_or_several(find, orders):
    active = _where(orders, status="active")
    assert len(active) == 1
    assert find(f"ServiceRequest?patient={MARIA}&status=active") == active
    assert find(f"ServiceRequest?patient={MARIA}&status=active,on-hold,revoked") == active
    assert find(f"ServiceRequest?patient={MARIA}&status=completed") == _where(orders, status="completed")


def _day_of_her_lab_orders(orders, comparator):
    """Her first lab-order day, or her last for the comparators that look before it: each then finds some."""
    days = sorted({row["ordered_at"][:10] for row in orders.values() if row["category"] == "lab"})
    return days[-1] if comparator in ("lt", "le", "eb") else days[0]


# authoredOn is an instant, so it lies inside one day: eq finds that day, gt/sa the days after, lt/eb the days
# before, ge/le include the day (R4 3.1.1.4.2 search comparators on a dateTime).
@pytest.mark.parametrize(
    "comparator, keep",
    [
        ("", lambda day, v: day == v),
        ("eq", lambda day, v: day == v),
        ("ne", lambda day, v: day != v),
        ("gt", lambda day, v: day > v),
        ("ge", lambda day, v: day >= v),
        ("lt", lambda day, v: day < v),
        ("le", lambda day, v: day <= v),
        ("sa", lambda day, v: day > v),
        ("eb", lambda day, v: day < v),
    ],
)
def test_patient_category_and_authored_with_every_comparator(find, orders, comparator, keep):
    value = _day_of_her_lab_orders(orders, comparator)
    labs = {u: row for u, row in orders.items() if row["category"] == "lab"}
    expected = sorted(u for u, row in labs.items() if keep(row["ordered_at"][:10], value))
    assert expected  # each comparator finds some of her lab orders
    query = f"patient={MARIA}&category={SNOMED}|108252007&authored={comparator}{value}"
    assert find(f"ServiceRequest?{query}") == expected
    # And the SHOULD combination patient + code + authored.
    a1c = sorted(u for u in expected if orders[u]["code"] == "4548-4")
    assert find(f"ServiceRequest?patient={MARIA}&code={LOINC}|4548-4&authored={comparator}{value}") == a1c


def test_a_bad_authored_date_is_a_clear_400(client, auth):
    response = client.get(
        f"{FHIR}/ServiceRequest?patient={MARIA}&authored=lastweek", headers=auth("patient/*.rs", patient=MARIA)
    )
    assert response.status_code == 400
    assert response.get_json() == {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": "invalid",
                "diagnostics": "authored: 'lastweek' is not a valid date (use e.g. ge2023-01-15)",
            }
        ],
    }


def test_another_patients_orders_and_specimens_are_not_found(find, demo_db_path):
    db = store.connect(demo_db_path)
    keala = store.chart_rows(db, "patients", uid=KEALA)[0]
    for table, rtype in (("orders", "ServiceRequest"), ("specimens", "Specimen")):
        theirs = store.chart_rows(db, table, patient_id=keala["id"])
        assert theirs
        assert find(f"{rtype}?patient={KEALA}") == []
        assert find(f"{rtype}?_id={theirs[0]['uid']}") == []
        assert find(f"{rtype}/{theirs[0]['uid']}", expect=404) == []


@pytest.mark.parametrize(
    "rtype, element",
    [
        ("DiagnosticReport", "basedOn"),
        ("Observation", "basedOn"),
        ("Procedure", "basedOn"),
        ("DiagnosticReport", "specimen"),
        ("Observation", "specimen"),
    ],
)
def test_order_and_specimen_references_resolve_with_the_same_token(client, auth, rtype, element):
    linked_anywhere = 0
    for handle in PATIENTS:
        patient = uid("patients", handle)
        headers = auth("patient/*.rs", patient=patient)
        bundle = client.get(f"{FHIR}/{rtype}?patient={patient}&_count=500", headers=headers).get_json()
        linked = set()
        for e in bundle.get("entry", []):
            value = e["resource"].get(element)
            linked.update(r["reference"] for r in (value if isinstance(value, list) else [value] if value else []))
        linked_anywhere += len(linked)
        for ref in linked:
            response = client.get(f"{FHIR}/{ref}", headers=headers)
            assert response.status_code == 200
            assert response.get_json()["subject"] == {"reference": f"Patient/{patient}"}
    assert linked_anywhere >= 5


def test_a_result_and_its_report_share_the_order_and_specimen(client, auth):
    headers = auth("patient/*.rs", patient=MARIA)
    reports = client.get(f"{FHIR}/DiagnosticReport?patient={MARIA}", headers=headers).get_json()["entry"]
    for entry in reports:
        report = entry["resource"]
        for result in report["result"]:
            observation = client.get(f"{FHIR}/{result['reference']}", headers=headers).get_json()
            assert observation["basedOn"] == report["basedOn"]
            assert [observation["specimen"]] == report["specimen"]
        order = client.get(f"{FHIR}/{report['basedOn'][0]['reference']}", headers=headers).get_json()
        assert order["code"]["coding"][0]["code"] == report["code"]["coding"][0]["code"]


def test_an_order_names_who_signed_it_and_the_visit(client, auth, orders):
    headers = auth("patient/*.rs", patient=MARIA)
    lab = next(u for u, row in orders.items() if row["code"] == "57698-3")
    order = client.get(f"{FHIR}/ServiceRequest/{lab}", headers=headers).get_json()
    requester = client.get(f"{FHIR}/{order['requester']['reference']}", headers=headers)
    visit = client.get(f"{FHIR}/{order['encounter']['reference']}", headers=headers)
    assert (requester.status_code, visit.status_code) == (200, 200)
    assert requester.get_json()["name"][0]["family"] == "Patel"


def test_capability_statement_declares_the_us_core_searches(client):
    body = client.get(f"{FHIR}/metadata").get_json()
    resources = {r["type"]: r for r in body["rest"][0]["resource"]}
    us_core = "http://hl7.org/fhir/us/core/"
    assert resources["ServiceRequest"]["supportedProfile"] == [us_core + "StructureDefinition/us-core-servicerequest"]
    assert resources["Specimen"]["supportedProfile"] == [us_core + "StructureDefinition/us-core-specimen"]
    declared = {p["name"]: p["definition"] for p in resources["ServiceRequest"]["searchParam"]}
    for name in ("patient", "category", "code", "authored", "status"):
        assert declared[name] == f"{us_core}SearchParameter/us-core-servicerequest-{name}"
    declared = {p["name"]: p["definition"] for p in resources["Specimen"]["searchParam"]}
    assert declared["patient"] == f"{us_core}SearchParameter/us-core-specimen-patient"


def test_a_result_names_only_an_order_on_file_and_naming_one_later_reprojects_its_results(fresh_demo_db_path):
    db = store.connect(fresh_demo_db_path)
    patient = store.chart_rows(db, "patients", uid=KEALA)[0]["id"]
    report = {"patient_id": patient, "panel_loinc": "4548-4", "panel_name": "Hemoglobin A1c", "shared_with_patient": 1}
    report |= {"collected_at": "2026-11-01T16:00:00Z"}
    with pytest.raises(ChartError) as refused:
        store.insert_rows(db, "lab_results", [{**report, "order_id": 10_000}])
    assert str(refused.value) == "lab_results: FOREIGN KEY constraint failed"
    [report_id] = store.insert_rows(db, "lab_results", [report])
    result = {"lab_result_id": report_id, "patient_id": patient, "loinc_code": "4548-4", "name": "A1c"}
    [result_id] = store.insert_rows(db, "lab_observations", [result])
    order = {"patient_id": patient, "code_system": "loinc", "code": "4548-4", "description": "A1c", "category": "lab"}
    [order_id] = store.insert_rows(db, "orders", [order])
    store.update_row(db, "lab_results", report_id, {"order_id": order_id})
    based_on = '"basedOn":[{"reference":"ServiceRequest/' + store.chart_row(db, "orders", order_id)["uid"] + '"}]'
    # The report was projected on insert, again when its result was added, and again now; its result once more.
    for table, row_id, expected in (("lab_results", report_id, 3), ("lab_observations", result_id, 2)):
        uid_ = store.chart_row(db, table, row_id)["uid"]
        version, body = db.execute("SELECT version, json FROM resources WHERE id = ?", (uid_,)).fetchone()
        assert (version, based_on in bytes(body).decode()) == (expected, True), table


def test_the_order_and_specimen_of_a_withheld_result_are_withheld_too(fresh_demo_db_path):
    """An order or specimen tells what was tested: while the practice withholds the result, neither is served."""
    db = store.connect(fresh_demo_db_path)
    patient = store.chart_rows(db, "patients", uid=KEALA)[0]["id"]
    order = {
        "patient_id": patient,
        "code_system": "loinc",
        "code": "7917-8",
        "description": "HIV 1 Ab",
        "category": "lab",
    }
    [order_id] = store.insert_rows(db, "orders", [order])
    [specimen_id] = store.insert_rows(
        db, "specimens", [{"patient_id": patient, "accession_number": "W-1", "type_text": "Serum"}]
    )
    report = {"patient_id": patient, "panel_loinc": "7917-8", "panel_name": "HIV 1 Ab", "shared_with_patient": 0}
    report |= {"collected_at": "2026-11-01T16:00:00Z", "order_id": order_id, "specimen_id": specimen_id}
    [report_id] = store.insert_rows(db, "lab_results", [report])
    uids = {t: store.chart_row(db, t, i)["uid"] for t, i in (("orders", order_id), ("specimens", specimen_id))}

    def served():
        sql = "SELECT id FROM resources WHERE id IN (?, ?) AND deleted = 0"
        return sorted(row[0] for row in db.execute(sql, tuple(uids.values())))

    assert served() == []
    store.update_row(db, "lab_results", report_id, {"shared_with_patient": 1})
    assert served() == sorted(uids.values())
    store.update_row(db, "lab_results", report_id, {"shared_with_patient": 0})
    assert served() == []

from mappers.care_plan import RESOURCE, to_fhir

FULL = dict(
    uid="cp-2",
    title="Diabetes management",
    description="Check A1c every 3 months.\nWalk 30 minutes a day.",
    status="active",
    intent="plan",
    period_start="2024-01-15",
    period_end="2024-12-31",
    provider_id=2,
    updated_at="2024-01-15T18:00:00Z",
)
SPARSE = dict(uid="cp-3", title="Asthma action plan", description="Use rescue inhaler as needed.")
XHTML = 'xmlns="http://www.w3.org/1999/xhtml"'


def test_full_row(chart_row, ctx, validate, assert_searchable):
    plan = validate(to_fhir(chart_row("care_plans", **FULL), ctx))

    assert plan["id"] == "cp-2"
    assert plan["meta"]["profile"] == ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-careplan"]
    assert plan["text"] == {
        "status": "additional",
        "div": f"<div {XHTML}><p><b>Diabetes management</b></p>"
        "<p>Check A1c every 3 months.<br/>Walk 30 minutes a day.</p></div>",
    }
    assert plan["status"] == "active"
    assert plan["intent"] == "plan"
    assert plan["category"] == [
        {
            "coding": [
                {
                    "system": "http://hl7.org/fhir/us/core/CodeSystem/careplan-category",
                    "code": "assess-plan",
                    "display": "Assessment and Plan of Treatment",
                }
            ]
        }
    ]
    assert plan["title"] == "Diabetes management"
    assert plan["description"] == "Check A1c every 3 months.\nWalk 30 minutes a day."
    assert plan["subject"] == {"reference": "Patient/pat-7f3a"}
    assert plan["period"] == {"start": "2024-01-15", "end": "2024-12-31"}
    assert plan["author"] == {"reference": "Practitioner/prac-9d0e"}
    assert_searchable(plan, RESOURCE)


def test_sparse_row(chart_row, validate):
    plan = validate(to_fhir(chart_row("care_plans", **SPARSE), {"patient": "pat-1"}))
    assert plan["status"] == "active" and plan["intent"] == "plan"
    assert "period" not in plan and "author" not in plan


def test_narrative_escapes_html(chart_row, ctx, validate):
    row = chart_row(
        "care_plans",
        **{**SPARSE, "title": "<script>alert(1)</script>", "description": 'Goal: A1c < 7 & "BP" <b>ok</b>'},
    )
    div = validate(to_fhir(row, ctx))["text"]["div"]

    assert "<script>" not in div and "<b>ok</b>" not in div
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in div
    assert "Goal: A1c &lt; 7 &amp; &quot;BP&quot; &lt;b&gt;ok&lt;/b&gt;" in div
    # Structured elements keep the chart's text as written; only the XHTML is escaped.
    assert to_fhir(row, ctx)["title"] == "<script>alert(1)</script>"

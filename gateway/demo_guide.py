"""What `fhir-gateway demo` prints: where to go, whom to look at, and ready-to-paste requests."""

from gateway import store
from smart_auth.tokens import ALL_PRACTICES, issue_access_token

DEMO_TTL = 12 * 3600


def guide(db, base_url):
    """Issue demo tokens and return the text that tells a newcomer what to try."""
    patients = store.chart_rows(db, "patients")
    practices = {p["id"]: p["name"] for p in store.chart_rows(db, "practices")}
    first = patients[0]
    patient_token = issue_access_token(db, "demo", "patient/*.rs", first["uid"], ttl=DEMO_TTL)
    system_token = issue_access_token(db, "demo", "system/*.rs", ttl=DEMO_TTL, practice_reach=ALL_PRACTICES)
    fhir = f"{base_url}/fhir"
    lines = [
        "",
        "fhir-gateway demo",
        "=================",
        f"FHIR base:             {fhir}   (CapabilityStatement: {fhir}/metadata)",
        "",
        "Demo patients (FHIR id, name, practice):",
    ]
    lines += [
        f"  {p['uid']}  {p['first_name'] + ' ' + p['last_name']:<22} {practices[p['practice_id']]}" for p in patients
    ]
    lines += [
        "",
        f"A patient token for {first['first_name']} {first['last_name']} (patient/*.rs, 12 h):",
        f"  export TOKEN={patient_token}",
        "A system token that sees every practice's charts (system/*.rs, all practices, 12 h):",
        f"  export SYSTEM_TOKEN={system_token}",
        "",
        "Try:",
        f"  curl -s {fhir}/metadata | head -c 300",
        f'  curl -s -H "Authorization: Bearer $TOKEN" {fhir}/Patient/{first["uid"]}',
        f'  curl -s -H "Authorization: Bearer $TOKEN" "{fhir}/Condition?patient={first["uid"]}"',
        f'  curl -s -H "Authorization: Bearer $TOKEN" "{fhir}/Observation?patient={first["uid"]}&category=laboratory"',
        f'  curl -s -H "Authorization: Bearer $TOKEN" {fhir}/Patient/{first["uid"]}/\\$everything',
        f'  curl -s -H "Authorization: Bearer $SYSTEM_TOKEN" "{fhir}/Patient?name=gar&_count=2"',
        "More tokens: .venv/bin/fhir-gateway token issue --db var/demo.db --scope 'patient/*.rs' --patient ID",
        "  one practice's back end: ... token issue --db var/demo.db --scope 'system/*.rs' --practice 1",
        "",
        *enrollment_lines(base_url),
        "",
        *smart_lines(base_url),
        "",
        "Serving; press Ctrl-C to stop.",
    ]
    return "\n".join(lines)


def smart_lines(base_url):
    """How to try the SMART sign-in with the demo logins and the demo public app."""
    from urllib.parse import urlencode

    from fixtures import demo_accounts, demo_clients

    query = urlencode(
        {
            "response_type": "code",
            "client_id": demo_clients.PUBLIC_ID,
            "scope": demo_clients.SCOPE,
            "redirect_uri": demo_clients.REDIRECT_URI,
            "state": "demo",
            "aud": f"{base_url}/fhir",
            "code_challenge": demo_clients.code_challenge(),
            "code_challenge_method": "S256",
        }
    )
    email, password = demo_accounts.ACCOUNTS[0][:2]
    return [
        "Try the SMART sign-in as an app would (SMART App Launch 2, authorization code + PKCE):",
        f"  1. open {base_url}/oauth/authorize?{query}",
        f"  2. log in as {email} / {password} (two records, so she picks one), untick what you like, press Allow",
        f"  3. the browser goes to {demo_clients.REDIRECT_URI}?code=...; copy the code and run:",
        f"     curl -s {base_url}/oauth/token -d grant_type=authorization_code"
        f" -d client_id={demo_clients.PUBLIC_ID} \\",
        f"       -d redirect_uri={demo_clients.REDIRECT_URI}"
        f" -d code_verifier={demo_clients.CODE_VERIFIER} -d code=CODE",
        f"  Discovery: {base_url}/fhir/.well-known/smart-configuration",
        f"  Confidential demo app: {demo_clients.CONFIDENTIAL_ID} / {demo_clients.CONFIDENTIAL_SECRET} (Basic + PKCE)",
        f"  EHR launch: log in at {base_url}/practice/ and press 'Launch app' beside a patient",
    ]


def enrollment_lines(base_url):
    """The demo logins, and how to follow a portal invitation end to end without a mail server."""
    from fixtures import demo_accounts

    lines = ["Demo logins (email / password):", f"  Practice console {base_url}/practice/"]
    lines += [f"    {email}  {password}   ({name})" for email, password, name, *_ in demo_accounts.STAFF]
    lines += [f"  Patient portal {base_url}/portal/"]
    lines += [f"    {email}  {password}   ({name})" for email, password, name, *_ in demo_accounts.ACCOUNTS]
    lines += teen_lines()
    lines += [
        "Follow an invitation end to end:",
        "  1. log in to the practice console, open a patient (Linh Nguyen has no portal account yet) and press",
        "     'Invite to patient portal'; note the access code on the chart (or print it)",
        f"  2. open the demo outbox {base_url}/portal/outbox (or: fhir-gateway outbox --db var/demo.db) and follow",
        "     'Access your records'; sign up, confirm from the next outbox email, log in and enter the access code",
    ]
    return lines


def teen_lines():
    """The parent of the demo's teenager, and what the parent's limited record leaves out."""
    from fixtures import demo_accounts
    from fixtures.demo_data import PATIENTS

    teen = PATIENTS[demo_accounts.TEEN][3]
    email, password, name = next(
        account[:3] for account in demo_accounts.ACCOUNTS if (demo_accounts.TEEN, "parent") in account[4]
    )
    return [
        f"A teenager's limited record: {teen['first_name']} {teen['last_name']} is 15; her parent {name}"
        f" ({email} / {password})",
        "  sees her record without the practice's sensitive categories: not her anxiety (charted in SNOMED CT",
        "  only), her PHQ-9 and GAD-7, her contraceptive pill, the note her clinician marked confidential, nor the",
        "  note of the anxiety visit. The parent's app tokens and downloads leave out the same items.",
    ]

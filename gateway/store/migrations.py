"""Ordered, forward-only schema migrations for the chart store.

The chart tables are shaped the way an EHR keeps its charts (integer keys, MRNs, chart codes);
the ``resources`` table and the ``search_*`` tables hold the FHIR projection of every chart row.
Each migration is applied once, in order, inside one transaction, and recorded in ``schema_version``.
"""

import orjson

from mappers.sensitivity import FRAME

from .search_index import privacy_entries

CHART_SCHEMA = """
CREATE TABLE practices (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    npi TEXT,
    phone TEXT,
    email TEXT,
    address_line TEXT,
    city TEXT,
    state TEXT,
    postal_code TEXT,
    mrn_system TEXT NOT NULL,
    updated_at TEXT
);
CREATE TABLE providers (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    practice_id INTEGER NOT NULL REFERENCES practices(id),
    npi TEXT,
    prefix TEXT,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    credentials TEXT,
    specialty_code TEXT,
    specialty_name TEXT,
    phone TEXT,
    email TEXT,
    updated_at TEXT
);
CREATE TABLE patients (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    practice_id INTEGER NOT NULL REFERENCES practices(id),
    mrn TEXT NOT NULL,
    first_name TEXT NOT NULL,
    middle_name TEXT,
    last_name TEXT NOT NULL,
    suffix TEXT,
    previous_last_name TEXT,
    birth_date TEXT NOT NULL,
    sex TEXT NOT NULL,
    race_code TEXT,
    ethnicity_code TEXT,
    preferred_language TEXT,
    email TEXT,
    phone TEXT,
    home_phone TEXT,
    address_line TEXT,
    address_line2 TEXT,
    city TEXT,
    state TEXT,
    postal_code TEXT,
    deceased_at TEXT,
    provider_id INTEGER REFERENCES providers(id),
    updated_at TEXT,
    UNIQUE (practice_id, mrn)
);
CREATE TABLE diagnoses (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    patient_id INTEGER NOT NULL REFERENCES patients(id),
    icd10_code TEXT,
    snomed_code TEXT,
    description TEXT NOT NULL,
    category TEXT NOT NULL DEFAULT 'problem-list-item',
    status TEXT NOT NULL DEFAULT 'active',
    verification TEXT NOT NULL DEFAULT 'confirmed',
    onset_date TEXT,
    resolved_date TEXT,
    recorded_at TEXT,
    provider_id INTEGER REFERENCES providers(id),
    note TEXT,
    updated_at TEXT
);
CREATE TABLE medications (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    patient_id INTEGER NOT NULL REFERENCES patients(id),
    rxnorm_code TEXT,
    name TEXT NOT NULL,
    sig TEXT,
    dose_value REAL,
    dose_unit TEXT,
    route TEXT,
    status TEXT NOT NULL DEFAULT 'active',
    source TEXT NOT NULL DEFAULT 'prescribed',
    start_date TEXT,
    end_date TEXT,
    prescribed_at TEXT,
    provider_id INTEGER REFERENCES providers(id),
    dispense_quantity REAL,
    dispense_unit TEXT,
    refills INTEGER,
    reason_icd10 TEXT,
    reason_text TEXT,
    updated_at TEXT
);
CREATE TABLE allergies (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    patient_id INTEGER NOT NULL REFERENCES patients(id),
    substance_system TEXT NOT NULL,
    substance_code TEXT,
    substance_name TEXT NOT NULL,
    category TEXT,
    criticality TEXT,
    reaction_snomed TEXT,
    reaction_name TEXT,
    severity TEXT,
    status TEXT NOT NULL DEFAULT 'active',
    verification TEXT NOT NULL DEFAULT 'confirmed',
    onset_date TEXT,
    recorded_at TEXT,
    provider_id INTEGER REFERENCES providers(id),
    updated_at TEXT
);
CREATE TABLE immunizations (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    patient_id INTEGER NOT NULL REFERENCES patients(id),
    cvx_code TEXT NOT NULL,
    vaccine_name TEXT NOT NULL,
    administered_at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'completed',
    not_done_reason TEXT,
    lot_number TEXT,
    expiration_date TEXT,
    manufacturer TEXT,
    route TEXT,
    site TEXT,
    dose_ml REAL,
    primary_source INTEGER NOT NULL DEFAULT 1,
    provider_id INTEGER REFERENCES providers(id),
    updated_at TEXT
);
CREATE TABLE procedures (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    patient_id INTEGER NOT NULL REFERENCES patients(id),
    code_system TEXT NOT NULL,
    code TEXT NOT NULL,
    description TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'completed',
    performed_at TEXT,
    performed_end TEXT,
    provider_id INTEGER REFERENCES providers(id),
    reason_icd10 TEXT,
    reason_text TEXT,
    updated_at TEXT
);
CREATE TABLE care_plans (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    patient_id INTEGER NOT NULL REFERENCES patients(id),
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active',
    intent TEXT NOT NULL DEFAULT 'plan',
    period_start TEXT,
    period_end TEXT,
    provider_id INTEGER REFERENCES providers(id),
    updated_at TEXT
);
CREATE TABLE lab_results (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    patient_id INTEGER NOT NULL REFERENCES patients(id),
    panel_loinc TEXT NOT NULL,
    panel_name TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'final',
    collected_at TEXT NOT NULL,
    reported_at TEXT,
    performing_lab TEXT,
    conclusion TEXT,
    shared_with_patient INTEGER NOT NULL DEFAULT 0,
    provider_id INTEGER REFERENCES providers(id),
    updated_at TEXT
);
CREATE TABLE lab_observations (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    lab_result_id INTEGER NOT NULL REFERENCES lab_results(id),
    patient_id INTEGER NOT NULL REFERENCES patients(id),
    loinc_code TEXT NOT NULL,
    name TEXT NOT NULL,
    value_num REAL,
    value_text TEXT,
    unit TEXT,
    ref_low REAL,
    ref_high REAL,
    ref_text TEXT,
    interpretation TEXT,
    status TEXT NOT NULL DEFAULT 'final',
    note TEXT,
    updated_at TEXT
);
CREATE TABLE appointments (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    patient_id INTEGER NOT NULL REFERENCES patients(id),
    provider_id INTEGER REFERENCES providers(id),
    start_at TEXT NOT NULL,
    end_at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'booked',
    visit_type TEXT,
    visit_type_code TEXT,
    reason_text TEXT,
    reason_icd10 TEXT,
    location TEXT,
    comment TEXT,
    updated_at TEXT
);
"""

CHART_INDEXES = """
CREATE INDEX providers_practice ON providers(practice_id);
CREATE INDEX patients_practice ON patients(practice_id);
CREATE INDEX diagnoses_patient ON diagnoses(patient_id);
CREATE INDEX medications_patient ON medications(patient_id);
CREATE INDEX allergies_patient ON allergies(patient_id);
CREATE INDEX immunizations_patient ON immunizations(patient_id);
CREATE INDEX procedures_patient ON procedures(patient_id);
CREATE INDEX care_plans_patient ON care_plans(patient_id);
CREATE INDEX lab_results_patient ON lab_results(patient_id);
CREATE INDEX lab_observations_result ON lab_observations(lab_result_id);
CREATE INDEX appointments_patient ON appointments(patient_id);
"""

# The FHIR projection. ``pk`` orders a search's results and is the keyset that pages through them,
# so a page link stays correct while rows are written between page requests.
PROJECTION = """
CREATE TABLE resources (
    pk INTEGER PRIMARY KEY,
    type TEXT NOT NULL,
    id TEXT NOT NULL,
    patient_id TEXT,
    practice_id TEXT,
    version INTEGER NOT NULL,
    last_updated TEXT NOT NULL,
    last_updated_ms INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    source_table TEXT NOT NULL,
    source_id INTEGER NOT NULL,
    json BLOB NOT NULL,
    UNIQUE (type, id)
);
CREATE INDEX resources_patient ON resources(type, patient_id, pk);
CREATE INDEX resources_source ON resources(source_table, source_id);
-- Search index rows, clustered by resource (WITHOUT ROWID, primary key first on pk) so a resource's rows
-- are one range to check or replace; no foreign keys, because the store writes both sides together.
CREATE TABLE search_token (
    pk INTEGER NOT NULL,
    param TEXT NOT NULL,
    code TEXT NOT NULL,
    system TEXT NOT NULL,
    PRIMARY KEY (pk, param, code, system)
) WITHOUT ROWID;
CREATE INDEX search_token_code ON search_token(param, code);
CREATE TABLE search_date (
    pk INTEGER NOT NULL,
    param TEXT NOT NULL,
    low INTEGER NOT NULL,
    high INTEGER NOT NULL,
    PRIMARY KEY (pk, param, low, high)
) WITHOUT ROWID;
CREATE TABLE search_string (
    pk INTEGER NOT NULL,
    param TEXT NOT NULL,
    value TEXT NOT NULL,
    raw TEXT NOT NULL,
    PRIMARY KEY (pk, param, value, raw)
) WITHOUT ROWID;
CREATE INDEX search_string_value ON search_string(param, value);
CREATE TABLE search_ref (
    pk INTEGER NOT NULL,
    param TEXT NOT NULL,
    target TEXT NOT NULL,
    patient_id TEXT,
    PRIMARY KEY (pk, param, target)
) WITHOUT ROWID;
CREATE INDEX search_ref_target ON search_ref(target, patient_id);
"""

TOKENS = """
CREATE TABLE access_tokens (
    token_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    patient_id TEXT,
    subject TEXT,
    issued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
"""

# Who may see what: portal accounts and their links to charts, practice staff, web sessions and the
# attempt log behind login and PIN limits.
ACCOUNTS = """
CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    name TEXT,
    phone TEXT,
    email_confirmed_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT
);
CREATE TABLE account_links (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    patient_id INTEGER NOT NULL REFERENCES patients(id),
    relation TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active',
    linked_at TEXT NOT NULL,
    revoked_at TEXT,
    UNIQUE (account_id, patient_id)
);
CREATE INDEX account_links_patient ON account_links(patient_id);
CREATE TABLE staff_users (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    name TEXT NOT NULL,
    practice_id INTEGER NOT NULL REFERENCES practices(id),
    provider_id INTEGER REFERENCES providers(id),
    created_at TEXT NOT NULL
);
CREATE TABLE web_sessions (
    id_hash TEXT PRIMARY KEY,
    data TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE attempts (
    key TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX attempts_key ON attempts(key, at);
"""


# Portal enrollment: invitations with their sealed PINs and SMS codes, the audit log of every enrollment
# event, the outbox of email and SMS messages, and an opaque id for each account link (staff and the
# practice API name links by it).
ENROLLMENT = """
CREATE TABLE invites (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    party_uid TEXT NOT NULL,
    practice_id INTEGER NOT NULL REFERENCES practices(id),
    patient_id INTEGER NOT NULL REFERENCES patients(id),
    relation TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    text_link INTEGER NOT NULL DEFAULT 0,
    pin_sealed TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'invited',
    finalize INTEGER NOT NULL DEFAULT 0,
    account_id INTEGER REFERENCES accounts(id),
    claimed_at TEXT,
    link_nonce TEXT NOT NULL,
    link_id INTEGER REFERENCES account_links(id),
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    sms_code_hash TEXT,
    sms_code_expires_at INTEGER,
    created_by TEXT,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    closed_at TEXT,
    updated_at TEXT NOT NULL
);
CREATE INDEX invites_patient ON invites(patient_id, party_uid, id);
CREATE INDEX invites_account ON invites(account_id, status);
CREATE INDEX invites_practice ON invites(practice_id, status);
CREATE TABLE enrollment_events (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    event TEXT NOT NULL,
    practice_id INTEGER,
    patient_id INTEGER,
    invite_id INTEGER,
    account_id INTEGER,
    actor TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX enrollment_events_patient ON enrollment_events(patient_id, id);
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT,
    body_text TEXT,
    body_html TEXT,
    kind TEXT NOT NULL,
    invite_id INTEGER,
    status TEXT NOT NULL,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE INDEX outbox_invite ON outbox(invite_id);
ALTER TABLE account_links ADD COLUMN uid TEXT;
UPDATE account_links SET uid = lower(hex(randomblob(16))) WHERE uid IS NULL;
CREATE UNIQUE INDEX account_links_uid ON account_links(uid);
CREATE TRIGGER account_links_uid AFTER INSERT ON account_links WHEN NEW.uid IS NULL
BEGIN
    UPDATE account_links SET uid = lower(hex(randomblob(16))) WHERE id = NEW.id;
END;
"""


# The SMART authorization server: registered apps, single-use authorization codes, refresh-token
# families, consent grants, EHR launch contexts, the id_token signing keys and the client-assertion
# ids already seen. Every code and token is stored as a SHA-256 hash, like access_tokens.
OAUTH = """
CREATE TABLE oauth_clients (
    client_id TEXT PRIMARY KEY,
    secret_hash TEXT,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    auth_method TEXT NOT NULL,
    redirect_uris TEXT NOT NULL DEFAULT '[]',
    launch_uri TEXT,
    grant_types TEXT NOT NULL,
    scope TEXT NOT NULL DEFAULT '',
    jwks TEXT,
    jwks_uri TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL DEFAULT 'active',
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE oauth_codes (
    code_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    scope TEXT NOT NULL,
    context TEXT NOT NULL,
    family TEXT NOT NULL,
    code_challenge TEXT,
    code_challenge_method TEXT,
    nonce TEXT,
    auth_time INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
) WITHOUT ROWID;
CREATE INDEX oauth_codes_nonce ON oauth_codes(client_id, nonce);
CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    family TEXT NOT NULL,
    client_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    context TEXT NOT NULL,
    grant_id INTEGER,
    patient_id TEXT,
    subject TEXT,
    issued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    revoked INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX refresh_tokens_family ON refresh_tokens(family);
CREATE INDEX refresh_tokens_grant ON refresh_tokens(grant_id);
CREATE INDEX refresh_tokens_patient ON refresh_tokens(patient_id, subject);
ALTER TABLE access_tokens ADD COLUMN family TEXT;
ALTER TABLE access_tokens ADD COLUMN grant_id INTEGER;
ALTER TABLE access_tokens ADD COLUMN fhir_user TEXT;
CREATE INDEX access_tokens_family ON access_tokens(family);
CREATE INDEX access_tokens_grant ON access_tokens(grant_id);
CREATE INDEX access_tokens_patient ON access_tokens(patient_id, subject);
CREATE TABLE consent_grants (
    id INTEGER PRIMARY KEY,
    account_uid TEXT NOT NULL,
    client_id TEXT NOT NULL,
    patient_id TEXT NOT NULL,
    requested_scope TEXT NOT NULL,
    scope TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX consent_grants_account ON consent_grants(account_uid, client_id, patient_id);
CREATE INDEX consent_grants_patient ON consent_grants(patient_id, account_uid);
CREATE TABLE launch_contexts (
    launch_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    staff_uid TEXT NOT NULL,
    patient_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    alg TEXT NOT NULL,
    private_jwk TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    retired_at INTEGER,
    publish_until INTEGER
) WITHOUT ROWID;
CREATE TABLE seen_assertions (
    client_id TEXT NOT NULL,
    jti TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (client_id, jti)
) WITHOUT ROWID;
"""


# The patient portal's access log: every disclosure of a record (an app's FHIR reads, downloads,
# transmissions, a representative's or staff member's views), newest first per patient.
PORTAL = """
CREATE TABLE disclosures (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    patient_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    client_id TEXT,
    actor TEXT,
    what TEXT NOT NULL,
    count INTEGER NOT NULL DEFAULT 0,
    recipient TEXT,
    outcome TEXT,
    detail TEXT
);
CREATE INDEX disclosures_patient ON disclosures(patient_id, at);
"""

# Indexes a bulk load dropped and has yet to build again (gateway/store/bulk.py).
BULK_LOAD = """
CREATE TABLE deferred_indexes (
    name TEXT PRIMARY KEY,
    sql TEXT NOT NULL
) WITHOUT ROWID;
"""

# The access log moves to its own database, attached as ``access_log`` (gateway/store/connection.py
# says why); ACCESS_LOG_SCHEMA creates its table there at every connect, so a new log file gets one.
# It repeats PORTAL's columns on purpose: a migration's text is history and PORTAL stays as it ran;
# a later change to the log's columns is a new migration (ALTER TABLE access_log.disclosures ...).
ACCESS_LOG_SCHEMA = """
CREATE TABLE IF NOT EXISTS access_log.disclosures (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    patient_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    client_id TEXT,
    actor TEXT,
    what TEXT NOT NULL,
    count INTEGER NOT NULL DEFAULT 0,
    recipient TEXT,
    outcome TEXT,
    detail TEXT
);
CREATE INDEX IF NOT EXISTS access_log.disclosures_patient ON disclosures(patient_id, at);
"""
ACCESS_LOG_MOVE = """
INSERT OR IGNORE INTO access_log.disclosures SELECT * FROM main.disclosures;
DROP TABLE main.disclosures;
"""

# Web sessions findable by account, so a password reset can end the account's other sessions.
WEB_SESSIONS_BY_ACCOUNT = """
ALTER TABLE web_sessions ADD COLUMN account_id INTEGER;
CREATE INDEX IF NOT EXISTS web_sessions_account ON web_sessions(account_id);
"""

# Pruning (gateway/store/pruning.py) deletes by expiry: these indexes keep each DELETE a range scan.
PRUNE_INDEXES = """
CREATE INDEX IF NOT EXISTS web_sessions_expires ON web_sessions(expires_at);
CREATE INDEX IF NOT EXISTS attempts_at ON attempts(at);
CREATE INDEX IF NOT EXISTS oauth_codes_expires ON oauth_codes(expires_at);
CREATE INDEX IF NOT EXISTS access_tokens_expires ON access_tokens(expires_at);
CREATE INDEX IF NOT EXISTS access_tokens_revoked ON access_tokens(token_hash) WHERE revoked = 1;
CREATE INDEX IF NOT EXISTS refresh_tokens_expires ON refresh_tokens(expires_at);
CREATE INDEX IF NOT EXISTS refresh_tokens_revoked ON refresh_tokens(token_hash) WHERE revoked = 1;
CREATE INDEX IF NOT EXISTS seen_assertions_expires ON seen_assertions(expires_at);
"""

# The outbox becomes a queue (smart_auth/notify.py): queued -> sending -> sent | failed, retried with
# exponential backoff (next_attempt_at), claimed under a lease (lease_until, claim) so a crashed sender's
# message is retried and two senders never deliver one message twice; attachments as a JSON list.
OUTBOX_QUEUE = """
ALTER TABLE outbox ADD COLUMN attachments TEXT;
ALTER TABLE outbox ADD COLUMN next_attempt_at INTEGER;
ALTER TABLE outbox ADD COLUMN lease_until INTEGER;
ALTER TABLE outbox ADD COLUMN claim TEXT;
ALTER TABLE outbox ADD COLUMN sent_at TEXT;
CREATE INDEX IF NOT EXISTS outbox_due ON outbox(status, next_attempt_at);
"""

# Visits (issue 13: US Core Encounter). Kept as an EHR keeps them: the visit number, the class (AMB, IMP,
# EMER, VR), a coded visit type, the practice and room, the discharge disposition code, and the appointment
# the visit fulfilled. The clinical rows charted during a visit point at it with a nullable encounter_id.
ENCOUNTERS = """
CREATE TABLE encounters (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    patient_id INTEGER NOT NULL REFERENCES patients(id),
    provider_id INTEGER REFERENCES providers(id),
    appointment_id INTEGER REFERENCES appointments(id),
    visit_number TEXT,
    class_code TEXT NOT NULL DEFAULT 'AMB',
    type_system TEXT,
    type_code TEXT,
    type_text TEXT,
    status TEXT NOT NULL DEFAULT 'finished',
    start_at TEXT,
    end_at TEXT,
    reason_icd10 TEXT,
    reason_text TEXT,
    reason_diagnosis_id INTEGER,
    location TEXT,
    discharge_disposition TEXT,
    updated_at TEXT
);
CREATE INDEX encounters_patient ON encounters(patient_id);
CREATE INDEX encounters_reason ON encounters(reason_diagnosis_id) WHERE reason_diagnosis_id IS NOT NULL;
ALTER TABLE diagnoses ADD COLUMN encounter_id INTEGER REFERENCES encounters(id);
ALTER TABLE medications ADD COLUMN encounter_id INTEGER REFERENCES encounters(id);
ALTER TABLE procedures ADD COLUMN encounter_id INTEGER REFERENCES encounters(id);
ALTER TABLE lab_results ADD COLUMN encounter_id INTEGER REFERENCES encounters(id);
ALTER TABLE lab_observations ADD COLUMN encounter_id INTEGER REFERENCES encounters(id);
"""

# The patient's people and plans as an EHR keeps them (issue 13 item 6): contacts (guardians, next of
# kin, caregivers), the care team and its members, goals under care plans, and insurance on file.
CARE_TEAM_GOALS_COVERAGE = """
CREATE TABLE patient_contacts (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    patient_id INTEGER NOT NULL REFERENCES patients(id),
    first_name TEXT,
    last_name TEXT NOT NULL,
    relationship_code TEXT NOT NULL,
    phone TEXT,
    email TEXT,
    address_line TEXT,
    city TEXT,
    state TEXT,
    postal_code TEXT,
    active INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT
);
CREATE INDEX patient_contacts_patient ON patient_contacts(patient_id);
CREATE TABLE care_teams (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    patient_id INTEGER NOT NULL REFERENCES patients(id),
    name TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active',
    updated_at TEXT
);
CREATE INDEX care_teams_patient ON care_teams(patient_id);
CREATE TABLE care_team_members (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    care_team_id INTEGER NOT NULL REFERENCES care_teams(id),
    provider_id INTEGER REFERENCES providers(id),
    contact_id INTEGER REFERENCES patient_contacts(id),
    is_patient INTEGER NOT NULL DEFAULT 0,
    role_code TEXT NOT NULL,
    role_name TEXT NOT NULL,
    updated_at TEXT
);
CREATE INDEX care_team_members_team ON care_team_members(care_team_id);
CREATE TABLE goals (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    patient_id INTEGER NOT NULL REFERENCES patients(id),
    care_plan_id INTEGER REFERENCES care_plans(id),
    snomed_code TEXT,
    description TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active',
    start_date TEXT,
    due_date TEXT,
    expressed_by TEXT,
    provider_id INTEGER REFERENCES providers(id),
    updated_at TEXT
);
CREATE INDEX goals_patient ON goals(patient_id);
CREATE TABLE insurance_policies (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    patient_id INTEGER NOT NULL REFERENCES patients(id),
    payer_name TEXT NOT NULL,
    payer_id TEXT,
    member_id TEXT,
    subscriber_id TEXT,
    group_number TEXT,
    group_name TEXT,
    plan_code TEXT,
    plan_name TEXT,
    relationship TEXT NOT NULL DEFAULT 'self',
    payment_type_code TEXT,
    payment_type_name TEXT,
    status TEXT NOT NULL DEFAULT 'active',
    period_start TEXT,
    period_end TEXT,
    updated_at TEXT
);
CREATE INDEX insurance_policies_patient ON insurance_policies(patient_id);
"""

# The vitals flowsheet: one row per measurement taken at a visit, as an EHR's flowsheet keeps them
# (projected as vital-sign Observations by mappers.vital_signs). Blood pressure keeps systolic and
# diastolic in their own columns; pulse oximetry its inhaled oxygen flow rate and concentration;
# an average blood pressure the end of the span it averages (taken_until).
VITAL_SIGNS = """
CREATE TABLE vital_signs (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    patient_id INTEGER NOT NULL REFERENCES patients(id),
    provider_id INTEGER REFERENCES providers(id),
    encounter_id INTEGER REFERENCES encounters(id),
    taken_at TEXT NOT NULL,
    taken_until TEXT,
    loinc_code TEXT NOT NULL,
    value_num REAL,
    unit TEXT,
    systolic REAL,
    diastolic REAL,
    o2_flow_rate REAL,
    o2_concentration REAL,
    status TEXT NOT NULL DEFAULT 'final',
    not_taken_reason TEXT,
    note TEXT,
    updated_at TEXT
);
CREATE INDEX vital_signs_patient ON vital_signs(patient_id);
"""

# EHR launch: a launch handle is used once (used_at), and a staff user approves an app once (SMART App Launch
# "EHR Launch": the EHR authorizes the app, here by asking its user the first time).
EHR_LAUNCH_APPROVALS = """
ALTER TABLE launch_contexts ADD COLUMN used_at INTEGER;
CREATE TABLE staff_app_approvals (
    staff_uid TEXT NOT NULL,
    client_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    approved_at INTEGER NOT NULL,
    PRIMARY KEY (staff_uid, client_id)
) WITHOUT ROWID;
"""

# Patient demographics US Core 6.1.0 asks for (issue 13 item 7), kept as a registration screen keeps them:
# birth sex and the sex recorded for care as their own columns (no longer read off administrative sex),
# the tribe (a v3-TribalEntityUS code) with an enrolled flag, and the address the patient moved out of
# with the dates they lived there. Existing rows are not backfilled: nobody charted these.
PATIENT_DEMOGRAPHICS = """
ALTER TABLE patients ADD COLUMN birth_sex TEXT;
ALTER TABLE patients ADD COLUMN sex_for_clinical_use TEXT;
ALTER TABLE patients ADD COLUMN tribal_affiliation_code TEXT;
ALTER TABLE patients ADD COLUMN tribal_enrolled INTEGER;
ALTER TABLE patients ADD COLUMN previous_address_line TEXT;
ALTER TABLE patients ADD COLUMN previous_city TEXT;
ALTER TABLE patients ADD COLUMN previous_state TEXT;
ALTER TABLE patients ADD COLUMN previous_postal_code TEXT;
ALTER TABLE patients ADD COLUMN previous_address_from TEXT;
ALTER TABLE patients ADD COLUMN moved_out_on TEXT;
"""

# Qualitative lab results as a lab interface delivers them: a SNOMED CT answer code beside the printed text.
LAB_CODED_VALUES = """
ALTER TABLE lab_observations ADD COLUMN value_code TEXT;
"""

# The coded frequency of a prescription's SIG as order entry picks it (BID, TID, Q6H, ...), beside the sig text.
SIG_FREQUENCY = """
ALTER TABLE medications ADD COLUMN sig_frequency TEXT;
"""

# Whether the practice's own lab ran a report, and whether a dose was given at the practice: then the
# practice is the performing Organization a client can read (not only a name).
IN_HOUSE = """
ALTER TABLE lab_results ADD COLUMN performed_in_house INTEGER NOT NULL DEFAULT 0;
ALTER TABLE immunizations ADD COLUMN administered_in_house INTEGER NOT NULL DEFAULT 0;
"""

# Orders and specimens (issue 13: US Core ServiceRequest and Specimen). An order as an EHR's order entry keeps
# it: who ordered what (LOINC for labs, CPT/HCPCS/SNOMED CT for procedures and referrals), its category code
# (us-core-servicerequest-category), status, intent, priority, when it was signed, when it is to happen and
# why. A specimen as a lab's accessioning keeps it: accession number, SNOMED CT type, collection time and body
# site, condition on receipt. Lab results and procedures name the order they fulfil; a lab result names the
# specimen it was run on (its observations inherit both).
ORDERS_AND_SPECIMENS = """
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    patient_id INTEGER NOT NULL REFERENCES patients(id),
    provider_id INTEGER REFERENCES providers(id),
    encounter_id INTEGER REFERENCES encounters(id),
    order_number TEXT,
    code_system TEXT NOT NULL,
    code TEXT NOT NULL,
    description TEXT NOT NULL,
    category TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active',
    intent TEXT NOT NULL DEFAULT 'order',
    priority TEXT,
    ordered_at TEXT,
    occurrence_at TEXT,
    reason_icd10 TEXT,
    reason_text TEXT,
    updated_at TEXT
);
CREATE INDEX orders_patient ON orders(patient_id);
CREATE TABLE specimens (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    patient_id INTEGER NOT NULL REFERENCES patients(id),
    accession_number TEXT,
    type_code TEXT,
    type_text TEXT NOT NULL,
    collected_at TEXT,
    received_at TEXT,
    body_site_code TEXT,
    body_site_text TEXT,
    condition TEXT,
    updated_at TEXT
);
CREATE INDEX specimens_patient ON specimens(patient_id);
ALTER TABLE lab_results ADD COLUMN order_id INTEGER REFERENCES orders(id);
ALTER TABLE lab_results ADD COLUMN specimen_id INTEGER REFERENCES specimens(id);
ALTER TABLE procedures ADD COLUMN order_id INTEGER REFERENCES orders(id);
"""

# US Core 6.1.0 Device, MedicationDispense, Location and PractitionerRole (issue 13). Shaped as an EHR keeps
# them: a practice's sites, a clinician's role at one site, implants as scanned at surgery (the UDI carrier's
# human-readable form and the parts read from it), and the pharmacy's fills of a prescription.
SITES_ROLES_IMPLANTS_FILLS = """
CREATE TABLE locations (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    practice_id INTEGER NOT NULL REFERENCES practices(id),
    name TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active',
    site_type_code TEXT,
    site_type TEXT,
    phone TEXT,
    email TEXT,
    address_line TEXT,
    city TEXT,
    state TEXT,
    postal_code TEXT,
    updated_at TEXT
);
CREATE INDEX locations_practice ON locations(practice_id);
ALTER TABLE encounters ADD COLUMN location_id INTEGER REFERENCES locations(id);
CREATE TABLE provider_roles (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    provider_id INTEGER NOT NULL REFERENCES providers(id),
    practice_id INTEGER NOT NULL REFERENCES practices(id),
    location_id INTEGER REFERENCES locations(id),
    role_code TEXT,
    role_name TEXT,
    specialty_code TEXT,
    specialty_name TEXT,
    phone TEXT,
    email TEXT,
    active INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT
);
CREATE INDEX provider_roles_provider ON provider_roles(provider_id);
CREATE TABLE implants (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    patient_id INTEGER NOT NULL REFERENCES patients(id),
    device_code TEXT,
    device_name TEXT NOT NULL,
    udi_carrier TEXT,
    udi_device_identifier TEXT,
    manufacturer TEXT,
    model TEXT,
    lot_number TEXT,
    serial_number TEXT,
    manufacture_date TEXT,
    expiration_date TEXT,
    distinct_identifier TEXT,
    implanted_on TEXT,
    status TEXT NOT NULL DEFAULT 'active',
    provider_id INTEGER REFERENCES providers(id),
    updated_at TEXT
);
CREATE INDEX implants_patient ON implants(patient_id);
CREATE TABLE dispenses (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    patient_id INTEGER NOT NULL REFERENCES patients(id),
    medication_id INTEGER NOT NULL REFERENCES medications(id),
    status TEXT NOT NULL DEFAULT 'filled',
    fill_type TEXT,
    quantity REAL,
    quantity_unit TEXT,
    days_supply INTEGER,
    handed_over_at TEXT,
    pharmacy_name TEXT,
    updated_at TEXT
);
CREATE INDEX dispenses_patient ON dispenses(patient_id);
CREATE INDEX dispenses_medication ON dispenses(medication_id);
"""

# EHR launch from a visit: the launch context may name an encounter (its FHIR id), and an access token keeps the
# encounter it was granted for, so introspection can say it (SMART App Launch 2.2, "encounter" launch context).
EHR_LAUNCH_ENCOUNTER = """
ALTER TABLE launch_contexts ADD COLUMN encounter_id TEXT;
ALTER TABLE access_tokens ADD COLUMN encounter_id TEXT;
"""

# The social history an EHR keeps on its own form (not the problem list): one row per answer charted,
# projected as US Core social-history Observations by mappers.social_history. ``kind`` says which question
# (tobacco, pregnancy_status, pregnancy_intent, occupation, sexual_orientation); ``answer_code`` is the
# SNOMED CT answer (an ODH occupation code for occupation, a v3 NullFlavor for "unknown"/"other"), and
# ``absent_reason`` says why there is none (a patient who declined to answer). Occupation adds its
# ODH industry and the span the job was held.
SOCIAL_HISTORY = """
CREATE TABLE social_history (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    patient_id INTEGER NOT NULL REFERENCES patients(id),
    provider_id INTEGER REFERENCES providers(id),
    recorded_at TEXT NOT NULL,
    kind TEXT NOT NULL,
    answer_code TEXT,
    answer_text TEXT,
    absent_reason TEXT,
    industry_code TEXT,
    industry_text TEXT,
    period_start TEXT,
    period_end TEXT,
    status TEXT NOT NULL DEFAULT 'final',
    note TEXT,
    updated_at TEXT
);
CREATE INDEX social_history_patient ON social_history(patient_id);
"""

# Clinical notes as an EHR keeps them: one row per signed note or narrative report, with its document (text,
# HTML or a PDF's bytes). Projected as a US Core DocumentReference (mappers.document_reference) and, for the
# report kinds (cardiology, pathology, radiology), also as a DiagnosticReport note (mappers.report_note) whose
# presentedForm is the same Binary.
CLINICAL_NOTES = """
CREATE TABLE clinical_notes (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    patient_id INTEGER NOT NULL REFERENCES patients(id),
    provider_id INTEGER REFERENCES providers(id),
    encounter_id INTEGER REFERENCES encounters(id),
    note_loinc TEXT NOT NULL,
    report_kind TEXT,
    report_loinc TEXT,
    status TEXT NOT NULL DEFAULT 'signed',
    signed_at TEXT,
    service_start TEXT,
    service_end TEXT,
    title TEXT NOT NULL,
    content_type TEXT NOT NULL DEFAULT 'text/plain',
    body BLOB NOT NULL,
    shared_with_patient INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT
);
CREATE INDEX clinical_notes_patient ON clinical_notes(patient_id);
"""

# Self-reported race and ethnicity answers, several per patient, in the order given (US Core us-core-race
# ombCategory 0..5 and detailed 0..*; us-core-ethnicity ombCategory 0..1). A patient with none keeps the
# single race_code / ethnicity_code columns.
PATIENT_RACES = """
CREATE TABLE patient_races (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    patient_id INTEGER NOT NULL REFERENCES patients(id),
    kind TEXT NOT NULL CHECK (kind IN ('race', 'ethnicity')),
    code TEXT NOT NULL,
    display TEXT,
    position INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT
);
CREATE INDEX patient_races_patient ON patient_races(patient_id);
"""

# Backend clients are bound to one practice (or, by the operator's choice, to all: practice_reach '*'), and so
# are their tokens (issue 14). Backend clients and system/ tokens that exist already: in a database of one
# practice they are bound to it (what they saw is what they see); with several practices they stay unbound and
# get nothing until an operator runs `fhir-gateway client bind`, rather than keep a reach nobody chose.
BACKEND_PRACTICE = """
ALTER TABLE oauth_clients ADD COLUMN practice_reach TEXT;
ALTER TABLE access_tokens ADD COLUMN practice_reach TEXT;
UPDATE oauth_clients SET practice_reach = (SELECT uid FROM practices)
    WHERE kind = 'backend' AND (SELECT count(*) FROM practices) = 1;
UPDATE access_tokens SET practice_reach = (SELECT uid FROM practices)
    WHERE ' ' || scope LIKE '% system/%' AND (SELECT count(*) FROM practices) = 1;
"""

# A lab result's reference range is the one the lab used for this patient: for an age band (years, either end
# open) and sometimes one sex ('F'/'M'), as a lab report prints it (issue 20). No band means it holds for anyone.
LAB_RANGE_AGE_SEX = """
ALTER TABLE lab_observations ADD COLUMN ref_age_low REAL;
ALTER TABLE lab_observations ADD COLUMN ref_age_high REAL;
ALTER TABLE lab_observations ADD COLUMN ref_sex TEXT CHECK (ref_sex IN ('F', 'M'));
"""

# A practice's formulary: the medicines it prescribes that an RxNorm clinical drug does not name alone (a
# compounded cream, a flavoured suspension), kept once and named by the prescriptions that order them. Projected
# as US Core Medication (mappers.medication), which MedicationRequest.medicationReference points at.
FORMULARY = """
CREATE TABLE formulary (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    practice_id INTEGER NOT NULL REFERENCES practices(id),
    name TEXT NOT NULL,
    rxnorm_code TEXT,
    dose_form_code TEXT,
    dose_form TEXT,
    ingredients TEXT,
    status TEXT NOT NULL DEFAULT 'active',
    updated_at TEXT
);
ALTER TABLE medications ADD COLUMN formulary_id INTEGER REFERENCES formulary(id);
CREATE INDEX medications_formulary ON medications(formulary_id) WHERE formulary_id IS NOT NULL;
"""

# Findings an EHR charts that are neither labs, vitals, social history nor screenings: clinical test results
# (ECG, spirometry), exam findings, activity, functional and cognitive status. Projected as US Core 6.1.0 simple
# observations (mappers.simple_observation), a further source of Observation.
CLINICAL_FINDINGS = """
CREATE TABLE clinical_findings (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    patient_id INTEGER NOT NULL REFERENCES patients(id),
    provider_id INTEGER REFERENCES providers(id),
    encounter_id INTEGER REFERENCES encounters(id),
    observed_at TEXT NOT NULL,
    category TEXT NOT NULL,
    loinc_code TEXT,
    snomed_code TEXT,
    name TEXT NOT NULL,
    value_num REAL,
    unit TEXT,
    value_code TEXT,
    value_text TEXT,
    status TEXT NOT NULL DEFAULT 'final',
    note TEXT,
    updated_at TEXT
);
CREATE INDEX clinical_findings_patient ON clinical_findings(patient_id);
"""

# Bulk Data exports (gateway/bulk_data): one row a job, its state shared by every process (any worker claims a
# queued job, or a running one whose heartbeat stopped), and the finished files of each job. A file is recorded
# only once it is written whole and renamed into place, so a manifest built from export_files never lists a
# partial file. Operator-defined Groups (a Group per practice is not stored: its members are the practice's
# patients) and their members, by Patient FHIR id.
EXPORT_JOBS = """
CREATE TABLE export_jobs (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    request_url TEXT NOT NULL,
    spec TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    transaction_time TEXT,
    created_at INTEGER NOT NULL,
    claimed_by TEXT,
    heartbeat_at INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    written INTEGER NOT NULL DEFAULT 0,
    total INTEGER,
    finished_at INTEGER,
    expires_at INTEGER,
    error TEXT
);
CREATE INDEX export_jobs_status ON export_jobs(status, created_at);
CREATE INDEX export_jobs_client ON export_jobs(client_id, status);
CREATE TABLE export_files (
    job_id TEXT NOT NULL REFERENCES export_jobs(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('output', 'error')),
    type TEXT NOT NULL,
    count INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    PRIMARY KEY (job_id, name)
);
CREATE TABLE patient_groups (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE patient_group_members (
    group_id TEXT NOT NULL REFERENCES patient_groups(id) ON DELETE CASCADE,
    patient_id TEXT NOT NULL,
    PRIMARY KEY (group_id, patient_id)
) WITHOUT ROWID;
"""

# What a patient's own resources reference outside the compartment (Practitioners, Organizations, sites), in
# one range of one index: Patient/$everything and a patient's directory reads walked every resource of the
# patient to its references instead (gateway/store/search.py, _referenced). search_ref.patient_id is the
# referencing resource's compartment patient, written with it (projection._index).
SEARCH_REF_BY_PATIENT = """
CREATE INDEX IF NOT EXISTS search_ref_patient ON search_ref(patient_id, target) WHERE param = '_ref';
"""

# A practice's proxy access policy (smart_auth.proxy_policy): the age the limited record begins, the age access
# given during childhood ends, and the sensitive categories (space-separated names) the limited record leaves out.
# No row: the defaults. Links remember when the patient's coming-of-age notice went out.
PROXY_POLICY = """
CREATE TABLE proxy_policies (
    practice_id INTEGER PRIMARY KEY REFERENCES practices(id),
    limited_from INTEGER NOT NULL,
    ends_at INTEGER NOT NULL,
    withheld TEXT NOT NULL,
    updated_at INTEGER
);
ALTER TABLE account_links ADD COLUMN ending_notice_at INTEGER;
"""

# A caregiver the adult patient invites: the record sections shared (space-separated section slugs; NULL: the
# whole record) and the last day of access (an ISO date; NULL: until removed), kept on the invitation and then
# on the link it makes. ``by_patient`` marks an invitation whose code only the patient may read.
CAREGIVER_INVITES = """
ALTER TABLE invites ADD COLUMN sections TEXT;
ALTER TABLE invites ADD COLUMN access_until TEXT;
ALTER TABLE invites ADD COLUMN by_patient INTEGER NOT NULL DEFAULT 0;
ALTER TABLE account_links ADD COLUMN sections TEXT;
ALTER TABLE account_links ADD COLUMN access_until TEXT;
"""

# SMART Health Links the portal shares (gateway/health_links). The manifest id and file location tokens are kept
# only as SHA-256 hashes; a link's key is kept only for a long-term (L) link, sealed under the secret; a fixed
# link keeps its encrypted file (file_jwe) and never its key, except a link the portal keeps for the patient (an
# after-visit summary the practice shares), whose whole text is kept sealed (kept_link). Times are epoch seconds.
HEALTH_LINKS = """
CREATE TABLE health_links (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    manifest_hash TEXT NOT NULL UNIQUE,
    account_uid TEXT NOT NULL,
    patient_uid TEXT NOT NULL,
    label TEXT,
    content TEXT NOT NULL,
    sections TEXT,
    flags TEXT NOT NULL DEFAULT '',
    passcode_hash TEXT,
    attempts_left INTEGER,
    sealed_key TEXT,
    kept_link TEXT,
    file_jwe TEXT,
    file_count INTEGER,
    file_updated_at INTEGER,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    revoked_at INTEGER,
    opened_count INTEGER NOT NULL DEFAULT 0,
    last_opened_at INTEGER
);
CREATE INDEX health_links_patient ON health_links(patient_uid, created_at);
CREATE TABLE health_link_files (
    token_hash TEXT PRIMARY KEY,
    link_id INTEGER NOT NULL REFERENCES health_links(id),
    file_jwe TEXT,
    expires_at INTEGER NOT NULL
);
CREATE INDEX health_link_files_expiry ON health_link_files(expires_at);
"""


# The screening forms the screenings answer, as a definitions table (one row per form, no practice or patient):
# projected as Questionnaire (mappers.questionnaire, whose questionnaire_forms hold the items). The rows are the
# forms every database serves; gateway.store.definitions projects any that have no resource yet.
QUESTIONNAIRES = """
CREATE TABLE questionnaires (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    instrument_loinc TEXT NOT NULL UNIQUE,
    updated_at TEXT
);
INSERT INTO questionnaires (uid, instrument_loinc) VALUES
    ('phq-9', '44249-1'),
    ('phq-2', '55757-9'),
    ('gad-7', '69737-5'),
    ('ahc-hrsn', '96777-8'),
    ('prapare', '93025-5'),
    ('hunger-vital-sign', '88121-9');
"""


SCREENINGS = """
CREATE TABLE screenings (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    patient_id INTEGER NOT NULL REFERENCES patients(id),
    provider_id INTEGER REFERENCES providers(id),
    encounter_id INTEGER REFERENCES encounters(id),
    instrument_loinc TEXT NOT NULL,
    instrument_name TEXT,
    administered_at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'completed',
    note TEXT,
    updated_at TEXT
);
CREATE INDEX screenings_patient ON screenings(patient_id);
CREATE TABLE screening_answers (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    screening_id INTEGER NOT NULL REFERENCES screenings(id),
    patient_id INTEGER NOT NULL REFERENCES patients(id),
    position INTEGER NOT NULL DEFAULT 0,
    question_loinc TEXT NOT NULL,
    question_text TEXT NOT NULL,
    answer_code TEXT,
    answer_text TEXT,
    answer_num REAL,
    is_total_score INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT
);
CREATE INDEX screening_answers_screening ON screening_answers(screening_id);
CREATE INDEX screening_answers_patient ON screening_answers(patient_id);
ALTER TABLE diagnoses ADD COLUMN assessment_category TEXT;
ALTER TABLE diagnoses ADD COLUMN screening_answer_id INTEGER REFERENCES screening_answers(id);
"""

# A clinician's confidentiality marking of a note (v3-Confidentiality R restricted or V very restricted; NULL:
# normal), sent as meta.security; a representative's limited record leaves such a note out (mappers.sensitivity).
CONFIDENTIAL_NOTES = """
ALTER TABLE clinical_notes ADD COLUMN confidentiality TEXT;
"""


def index_sensitivity(conn, batch=5000):
    """Index the sensitivity of every stored resource from its stored JSON (search_index.privacy_entries, as the
    projection does): a gateway upgraded in place withholds a teen's sensitive items from a parent at once, not
    when each resource is next re-projected. Batches of ``batch`` resources in pk order; the frame types
    (mappers.sensitivity.FRAME: Patient, Practitioner...) are never in a category and depend on nothing."""
    frame = ",".join(f"'{t}'" for t in sorted(FRAME))
    last = 0
    while True:
        rows = conn.execute(
            f"SELECT pk, patient_id, json FROM resources WHERE pk > ? AND deleted = 0 AND type NOT IN ({frame})"
            " ORDER BY pk LIMIT ?",
            (last, batch),
        ).fetchall()
        if not rows:
            return
        tokens, refs = [], []
        for pk, patient, body in rows:
            labels, context = privacy_entries(orjson.loads(body))
            tokens.extend((pk, *t) for t in labels)
            refs.extend((pk, *r, patient) for r in context)
        conn.executemany(
            "INSERT INTO search_token (pk, param, system, code) VALUES (?,?,?,?) ON CONFLICT DO NOTHING", tokens
        )
        conn.executemany(
            "INSERT INTO search_ref (pk, param, target, patient_id) VALUES (?,?,?,?) ON CONFLICT DO NOTHING", refs
        )
        last = rows[-1][0]


# A practice administrator among the staff: may change the practice's settings (its proxy access policy).
STAFF_ADMINS = """
ALTER TABLE staff_users ADD COLUMN is_admin INTEGER NOT NULL DEFAULT 0;
"""

# Each index on a token table is one more B-tree page (16 KiB) in the WAL per code exchange or refresh.
# Grant revocation finds a grant's tokens by the (patient_id, subject) index (oauth.revoke_grant_tokens).
# Expired access tokens are found by a scan when pruning: access tokens live an hour, so at steady state
# about half the table is past use and the scan costs the same order as the deletes it finds.
LEANER_TOKEN_INDEXES = """
DROP INDEX IF EXISTS access_tokens_grant;
DROP INDEX IF EXISTS refresh_tokens_grant;
DROP INDEX IF EXISTS access_tokens_expires;
"""


# The WAL position (bytes, pg_current_wal_insert_lsn() - '0/0') after a person's last write: a replica serves their
# reads once it has replayed that far (gateway/store/replicas.py). UNLOGGED: a floor matters for the moments a replica
# lags, so it needs no WAL, is not replicated and may be lost with a crash; a SQLite gateway has no replicas.
READ_FLOORS_PG = """
CREATE UNLOGGED TABLE read_floors (
    person text PRIMARY KEY,
    lsn bigint NOT NULL
);
"""


# PostgreSQL statements of the migrations after the PostgreSQL baseline (postgres_schema.BASELINE_COVERS): the
# same tables in PostgreSQL's types (bigint identity keys, text, bigint epoch seconds).
HEALTH_LINKS_PG = """
CREATE TABLE health_links (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    uid text NOT NULL UNIQUE,
    manifest_hash text NOT NULL UNIQUE,
    account_uid text NOT NULL,
    patient_uid text NOT NULL,
    label text,
    content text NOT NULL,
    sections text,
    flags text NOT NULL DEFAULT '',
    passcode_hash text,
    attempts_left bigint,
    sealed_key text,
    kept_link text,
    file_jwe text,
    file_count bigint,
    file_updated_at bigint,
    created_at bigint NOT NULL,
    expires_at bigint,
    revoked_at bigint,
    opened_count bigint NOT NULL DEFAULT 0,
    last_opened_at bigint
);
CREATE INDEX health_links_patient ON health_links(patient_uid, created_at);
CREATE TABLE health_link_files (
    token_hash text PRIMARY KEY,
    link_id bigint NOT NULL REFERENCES health_links(id),
    file_jwe text,
    expires_at bigint NOT NULL
);
CREATE INDEX health_link_files_expiry ON health_link_files(expires_at);
"""
QUESTIONNAIRES_PG = QUESTIONNAIRES.replace(
    "id INTEGER PRIMARY KEY", "id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
)
CONFIDENTIAL_NOTES_PG = "ALTER TABLE clinical_notes ADD COLUMN confidentiality text;"
# SQLite's instr(text, text) (search.withheld_sql splits a "Type/id" reference with it), as PostgreSQL's strpos.
INSTR_PG = """
CREATE FUNCTION instr(haystack text, needle text) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT strpos(haystack, needle) $$;
"""


def index_sensitivity_pg(conn):
    """The sensitivity index on PostgreSQL: SQLite's instr first (the rule's query needs it), then the same step."""
    conn.executescript(INSTR_PG)
    index_sensitivity(conn)


STAFF_ADMINS_PG = "ALTER TABLE staff_users ADD COLUMN is_admin bigint NOT NULL DEFAULT 0;"


# (name, script), applied in this order (a script is SQL, or a function of the connection for a step SQL cannot
# express, run in the same transaction): a database's schema_version is the number it has applied, so a new
# migration goes at the end, and none is ever removed or reordered. Named for the reader, not the database:
# sqlite-utils' named migrations would record names instead, but they run each step in a transaction that
# executescript() commits, keep their own table (existing databases would need their versions carried over),
# and a PostgreSQL store would not share them.
MIGRATIONS = [
    ("chart tables", CHART_SCHEMA + CHART_INDEXES),
    ("FHIR projection and search index", PROJECTION),
    ("access tokens", TOKENS),
    ("accounts, links, staff, sessions and attempts", ACCOUNTS),
    ("invites, enrollment events and outbox", ENROLLMENT),
    ("OAuth clients, codes, tokens and keys", OAUTH),
    ("disclosures (the access log)", PORTAL),
    ("indexes deferred by a bulk load", BULK_LOAD),
    ("access log into its own file", ACCESS_LOG_MOVE),
    ("indexes for pruning", PRUNE_INDEXES),
    ("web sessions by account", WEB_SESSIONS_BY_ACCOUNT),
    ("outbox queue", OUTBOX_QUEUE),
    ("encounters and the rows charted at them", ENCOUNTERS),
    ("contacts, care teams, goals and insurance", CARE_TEAM_GOALS_COVERAGE),
    ("vital signs flowsheet", VITAL_SIGNS),
    ("EHR launch single use and staff app approvals", EHR_LAUNCH_APPROVALS),
    ("patient birth sex, sex, tribe and previous address", PATIENT_DEMOGRAPHICS),
    ("coded lab results", LAB_CODED_VALUES),
    ("coded SIG frequency", SIG_FREQUENCY),
    ("labs run and doses given in house", IN_HOUSE),
    ("orders and specimens, and the results that point at them", ORDERS_AND_SPECIMENS),
    ("sites, clinician roles, implants and pharmacy fills", SITES_ROLES_IMPLANTS_FILLS),
    ("EHR launch from a visit", EHR_LAUNCH_ENCOUNTER),
    ("social history", SOCIAL_HISTORY),
    ("clinical notes", CLINICAL_NOTES),
    ("several races and ethnicities per patient", PATIENT_RACES),
    ("backend clients bound to a practice", BACKEND_PRACTICE),
    ("lab reference ranges by age and sex", LAB_RANGE_AGE_SEX),
    ("formulary medicines that prescriptions name", FORMULARY),
    ("clinical findings (simple observations)", CLINICAL_FINDINGS),
    ("bulk data export jobs and patient groups", EXPORT_JOBS),
    ("screening instruments, their answers, and the health concerns they raise", SCREENINGS),
    ("what each patient's resources reference", SEARCH_REF_BY_PATIENT),
    ("proxy access policy per practice", PROXY_POLICY),
    ("caregivers the patient invites", CAREGIVER_INVITES),
    ("SMART Health Links the portal shares", HEALTH_LINKS, HEALTH_LINKS_PG),
    ("screening forms (Questionnaire definitions)", QUESTIONNAIRES, QUESTIONNAIRES_PG),
    ("clinical notes a clinician marks confidential", CONFIDENTIAL_NOTES, CONFIDENTIAL_NOTES_PG),
    ("sensitivity of the resources stored before it was indexed", index_sensitivity, index_sensitivity_pg),
    ("practice administrators among the staff", STAFF_ADMINS, STAFF_ADMINS_PG),
    (
        "token tables without the indexes an exchange pays for and no lookup needs",
        LEANER_TOKEN_INDEXES,
        LEANER_TOKEN_INDEXES,
    ),
    ("each person's read floor, for reads from PostgreSQL replicas", "", READ_FLOORS_PG),
]


def migrate(conn):
    """Apply every migration newer than the database's schema version; return the new version."""
    conn.execute("CREATE TABLE IF NOT EXISTS main.schema_version (version INTEGER NOT NULL)")
    conn.executescript(ACCESS_LOG_SCHEMA)
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    current = row[0] or 0
    for version, (_name, script, *_postgres) in enumerate(MIGRATIONS[current:], start=current + 1):
        if callable(script):
            conn.execute("BEGIN")
            try:
                script(conn)
                conn.execute("INSERT INTO schema_version VALUES (?)", (version,))
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            continue
        # executescript() commits first, so run the statements inside an explicit transaction.
        conn.executescript(f"BEGIN;\n{script}\nINSERT INTO schema_version VALUES ({version});\nCOMMIT;")
    return len(MIGRATIONS)

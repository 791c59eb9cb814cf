"""Which sensitive category a resource belongs to, by every code system the charts use: the one table.

A representative of a teenager sees a limited record (smart_auth.proxy_policy): the practice's sensitive
categories are left out. This module says which categories a FHIR resource is in, from its own codings; the
store indexes the answer when it writes the resource (pseudo-parameter ``_sensitivity``) and every door's
search, read, include, ``$everything``, ``$summary``, download and Binary asks it through the store's one WHERE
clause (gateway.store.search.where_sql), which also withholds a visit's notes with a sensitive diagnosis.

The categories follow HL7 v3 ActCode's information sensitivity policies (InformationSensitivityPolicy:
PSY psychiatry, BH behavioral health, ETH substance abuse, SEX sexuality and reproductive health, STD, HIV,
SDV) and v3-Confidentiality (R restricted, V very restricted) for a clinician's "confidential" marking.
Without a terminology server (no internet here), each code system has a compact list:

* ICD-10-CM: chapter and block prefixes (https://www.cms.gov/medicare/coding-billing/icd-10-codes);
* SNOMED CT: exact concepts, the top concepts of each family (74732009 Mental disorder, 66214007 Substance
  abuse, 8098009 Sexually transmitted infectious disease, 86406008 HIV infection, 77386006 Pregnancy) and the
  concepts the demo and the generator chart; a descendant not listed here is NOT recognised by its SNOMED code
  (the charts always carry the ICD-10-CM code beside it, which is);
* RxNorm: by ingredient, both the ingredient's RXCUI and its name in the drug's normalized name (an RxNorm
  clinical drug is named by its ingredients, "sertraline 100 MG Oral Tablet"), so every strength and form of
  the ingredient is recognised without a list of clinical drugs;
* LOINC: whole codes (HIV/STI/pregnancy tests, PHQ-2/PHQ-9/GAD-7 panels and their questions) and LOINC's
  Questionnaire canonicals (http://loinc.org/q/<panel>) of the same panels. The charts' note types are generic
  (11506-3 Progress note...): a note is withheld by its visit's diagnoses or a clinician's marking instead.
"""

import re

ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
LOINC_QUESTIONNAIRE = "http://loinc.org/q/"
# The index's pseudo-parameter holding a resource's categories (gateway.store.search_index).
PARAM = "_sensitivity"


def _icd(*prefixes):
    return tuple((ICD10CM, p) for p in prefixes)


# name -> (words, ActCode sensitivity, ICD-10-CM prefixes, SNOMED CT concepts, LOINC codes, RxNorm ingredients
# as (RXCUI, name)). Every code is a real code of its system.
TABLE = {
    "reproductive-health": (
        "Reproductive health (pregnancy, contraception)",
        "SEX",
        ("O", "Z30", "Z31", "Z32", "Z33", "Z34", "Z35", "Z36", "Z37", "Z39", "Z3A"),
        ("77386006", "72892002", "13197004", "5935008", "386639001"),
        ("2106-3", "2118-8", "19080-1"),
        (
            ("4124", "ethinyl estradiol"),
            ("6373", "levonorgestrel"),
            ("7514", "norethindrone"),
            ("31994", "norgestimate"),
            ("6691", "medroxyprogesterone"),
            ("", "desogestrel"),
            ("", "drospirenone"),
            ("", "etonogestrel"),
            ("", "ulipristal"),
        ),
    ),
    "mental-health": (
        "Mental health",
        "PSY",
        ("F0", *(f"F{n}" for n in range(2, 10))),
        ("74732009", "35489007", "370143000", "21897009", "197480006", "406506008", "13746004", "58214004")
        + ("47505003", "72366004", "6471006"),
        # PHQ-9 panel and its questions, PHQ-2 panel and total, GAD-7 panel, questions and total; psychiatry notes.
        ("44249-1", "44250-9", "44255-8", "44259-0", "44254-1", "44251-7", "44258-2", "44252-5", "44253-3")
        + ("44260-8", "44261-6", "55757-9", "55758-7", "69737-5", "69725-0", "68509-9", "69733-4", "69734-2")
        + ("69735-9", "69689-8", "69736-7", "70274-6"),
        (
            ("36437", "sertraline"),
            ("4493", "fluoxetine"),
            ("2556", "citalopram"),
            ("321988", "escitalopram"),
            ("32937", "paroxetine"),
            ("42347", "bupropion"),
            ("39786", "venlafaxine"),
            ("72625", "duloxetine"),
            ("15996", "mirtazapine"),
            ("10737", "trazodone"),
            ("704", "amitriptyline"),
            ("89013", "aripiprazole"),
            ("51272", "quetiapine"),
            ("35636", "risperidone"),
            ("61381", "olanzapine"),
            ("5093", "haloperidol"),
            ("6448", "lithium"),
        ),
    ),
    "sexual-health": (
        "Sexual health (sexually transmitted infections, HIV)",
        "STD",
        (*(f"A{n}" for n in range(50, 65)), "B20", "Z11.3", "Z11.4", "Z20.2", "Z20.6", "Z21", "Z72.5"),
        ("8098009", "86406008", "165816005", "15628003", "105629000", "76272004", "33839006"),
        ("21613-5", "24111-7", "75622-1", "56888-1"),
        (
            ("276237", "emtricitabine"),
            ("", "tenofovir"),
            ("", "dolutegravir"),
            ("", "bictegravir"),
            ("", "cabotegravir"),
            ("", "raltegravir"),
            ("", "zidovudine"),
        ),
    ),
    "substance-use": (
        "Substance use",
        "ETH",
        (*(f"F{n}" for n in range(10, 20)), "Z71.4", "Z71.5", "Z71.6"),
        ("66214007", "7200002", "191816009", "5602001", "75544000"),
        (),
        (("1819", "buprenorphine"), ("7243", "naltrexone"), ("6813", "methadone")),
    ),
    # A clinician's marking, not a subject: meta.security R or V (FHIR R4 security labels, 8.2.3.2.1).
    "confidential": ("Marked confidential by a clinician", "R", (), (), (), ()),
}
CATEGORIES = {name: row[0] for name, row in TABLE.items()}
# Types never withheld: who the patient is and who cares for them (the record's frame, not its contents).
FRAME = {"Patient", "Practitioner", "PractitionerRole", "Organization", "Location", "RelatedPerson", "CareTeam"}


def _exact():
    found = {}
    for name, (_, _, _, snomed, loinc, drugs) in TABLE.items():
        for system, codes in ((SNOMED, snomed), (LOINC, loinc), (RXNORM, [c for c, _ in drugs if c])):
            for code in codes:
                found.setdefault((system, code), []).append(name)
    for code in ("R", "V"):
        found[(CONFIDENTIALITY, code)] = ["confidential"]
    return found


EXACT = _exact()
ICD_PREFIXES = tuple((p, name) for name, row in TABLE.items() for p in row[2])
INGREDIENTS = tuple((n, name) for name, row in TABLE.items() for _, n in row[5])


def codings(node):
    """Every (system, code, display) Coding in a resource, at any depth (code, value, reason, meta.security...)."""
    if isinstance(node, dict):
        if isinstance(node.get("system"), str) and isinstance(node.get("code"), str):
            yield node["system"], node["code"], node.get("display") or ""
        for key, value in node.items():
            if key != "text" or isinstance(value, dict | list):
                yield from codings(value)
    elif isinstance(node, list):
        for item in node:
            yield from codings(item)


def _drug_names(resource):
    """The words naming a medication: RxNorm displays and the medication's text."""
    found = [d for s, _, d in codings(resource) if s == RXNORM]
    for key in ("medicationCodeableConcept", "code"):
        concept = resource.get(key)
        if isinstance(concept, dict) and isinstance(concept.get("text"), str):
            found.append(concept["text"])
    return " ".join(found).lower()


def categories_of(resource):
    """The sensitive categories ``resource`` (FHIR JSON) is in, sorted: its codings by the table, a medication's
    ingredients by name, a QuestionnaireResponse's questionnaire canonical."""
    if resource.get("resourceType") in FRAME:
        return ()
    found = set()
    for system, code, _ in codings(resource):
        found.update(EXACT.get((system, code), ()))
        if system == ICD10CM:
            found.update(name for prefix, name in ICD_PREFIXES if code.startswith(prefix))
    if resource.get("resourceType", "").startswith("Medication"):
        words = _drug_names(resource)
        found.update(name for ingredient, name in INGREDIENTS if re.search(rf"\b{ingredient}\b", words))
    canonical = resource.get("questionnaire")
    if isinstance(canonical, str) and canonical.startswith(LOINC_QUESTIONNAIRE):
        panel = canonical[len(LOINC_QUESTIONNAIRE) :].split("|")[0]
        found.update(EXACT.get((LOINC, panel), ()))
    return tuple(sorted(found))

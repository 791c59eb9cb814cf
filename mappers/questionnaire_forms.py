# ruff: noqa: E501 - the forms' words, kept whole as LOINC and US Core write them
"""The screening forms the gateway's screenings answer: each instrument's questions (LOINC codes), their item type
and their LOINC answer lists, as data. mappers.questionnaire serves them as Questionnaire resources.

PHQ-9, PRAPARE and the Hunger Vital Sign are flattened from US Core 6.1.0's own example Questionnaires
(Questionnaire-phq-9-example, -prapare-example, -hunger-vital-sign-example: the same LOINC question and LA answer
codes and words; PRAPARE's groups are left out, as the charts keep its answers as one flat list). PHQ-2 is the
PHQ-9's first two questions and its own total; GAD-7 and the AHC HRSN core questions are LOINC's panels 69737-5 and
96777-8 (the AHC HRSN's optional supplemental questions are not charted here, so not listed).
"""

# LA answer code -> its words (LOINC's display).
ANSWERS = {
    "LA28397-0": "Often true",
    "LA6729-3": "Sometimes true",
    "LA28398-8": "Never true",
    "LA15775-2": "Don't know/refused",
    "LA19952-3": "At risk",
    "LA19983-8": "No risk",
    "LA6568-5": "Not at all",
    "LA6569-3": "Several days",
    "LA6570-1": "More than half the days",
    "LA6571-9": "Nearly every day",
    "LA6572-7": "Not difficult at all",
    "LA6573-5": "Somewhat difficult",
    "LA6575-0": "Very difficult",
    "LA6574-3": "Extremely difficult",
    "LA33-6": "Yes",
    "LA32-8": "No",
    "LA30122-8": "I choose not to answer this question",
    "LA6156-9": "Asian",
    "LA14045-1": "Native Hawaiian",
    "LA30187-1": "Pacific Islander",
    "LA14042-8": "Black/African American",
    "LA4457-3": "White",
    "LA4-4": "American Indian/Alaskan Native",
    "LA46-8": "Other",
    "LA43-5": "English",
    "LA30188-9": "Language other than English",
    "LA30189-7": "I have housing",
    "LA30190-5": "I do not have housing (staying with others, in a hotel, in a shelter, living outside on the street, on a beach, in a car, or in a park)",
    "LA30191-3": "Less than high school degree",
    "LA30192-1": "High school diploma or GED",
    "LA30193-9": "More than high school",
    "LA17956-6": "Unemployed",
    "LA30138-4": "Part-time or temporary work",
    "LA30136-8": "Full-time work",
    "LA30137-6": "Otherwise unemployed but not seeking work (ex: student, retired, disabled, unpaid primary care giver)",
    "LA30194-7": "None/uninsured",
    "LA17849-3": "Medicaid",
    "LA30195-4": "CHIP Medicaid",
    "LA15652-3": "Medicare",
    "LA30196-2": "Other public insurance (not CHIP)",
    "LA30197-0": "Other public insurance (CHIP)",
    "LA6350-8": "Private insurance",
    "LA30125-1": "Food",
    "LA30126-9": "Clothing",
    "LA30124-4": "Utilities",
    "LA30127-7": "Child care",
    "LA30128-5": "Medicine or Any Health Care (Medical, Dental, Mental Health, Vision)",
    "LA30129-3": "Phone",
    "LA30133-5": "Yes, it has kept me from medical appointments or from getting my medications",
    "LA30134-3": "Yes, it has kept me from non-medical meetings, appointments, work, or from getting things that I need",
    "LA30257-2": "Patient unable to respond",
    "LA27722-0": "Less than once a week",
    "LA30130-1": "1 or 2 times a week",
    "LA30131-9": "3 to 5 times a week",
    "LA30132-7": "5 or more times a week",
    "LA13863-8": "A little bit",
    "LA13909-9": "Somewhat",
    "LA13902-4": "Quite a bit",
    "LA13914-9": "Very much",
    "LA14072-5": "Unsure",
    "LA31993-1": "I have a steady place to live",
    "LA31994-9": "I have a place to live today, but I am worried about losing it in the future",
    "LA31995-6": "I do not have a steady place to live (I am temporarily staying with others, in a hotel, in a shelter, living outside on the street, on a beach, in a car, abandoned building, bus or train station, or in a park)",
    "LA32002-0": "Already shut off",
    "LA6270-8": "Never",
    "LA10066-1": "Rarely",
    "LA10082-8": "Sometimes",
    "LA16644-9": "Fairly often",
    "LA6482-9": "Frequently",
}
PHQ_FREQUENCY = ("LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9")
DIFFICULTY = ("LA6572-7", "LA6573-5", "LA6575-0", "LA6574-3")
FOOD = ("LA28397-0", "LA6729-3", "LA28398-8")
YES_NO = ("LA33-6", "LA32-8")
HOW_OFTEN = ("LA6270-8", "LA10066-1", "LA10082-8", "LA16644-9", "LA6482-9")

# Instrument LOINC -> (Questionnaire id, [(question LOINC, item type, text, answer codes)]), in the forms' order.
PHQ_9 = (
    (
        "44250-9",
        "choice",
        "Little interest or pleasure in doing things?",
        ("LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"),
    ),
    ("44255-8", "choice", "Feeling down, depressed, or hopeless?", ("LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9")),
    (
        "44259-0",
        "choice",
        "Trouble falling or staying asleep, or sleeping too much",
        ("LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"),
    ),
    ("44254-1", "choice", "Feeling tired or having little energy", ("LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9")),
    ("44251-7", "choice", "Poor appetite or overeating", ("LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9")),
    (
        "44258-2",
        "choice",
        "Feeling bad about yourself-or that you are a failure or have let yourself or your family down",
        ("LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"),
    ),
    (
        "44252-5",
        "choice",
        "Trouble concentrating on things, such as reading the newspaper or watching television",
        ("LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"),
    ),
    (
        "44253-3",
        "choice",
        "Moving or speaking so slowly that other people could have noticed. Or the opposite-being so fidgety or restless that you have been moving around a lot more than usual",
        ("LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"),
    ),
    (
        "44260-8",
        "choice",
        "Thoughts that you would be better off dead, or of hurting yourself in some way",
        ("LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"),
    ),
    ("44261-6", "integer", "Patient health questionnaire 9 item total score", ()),
    (
        "69722-7",
        "choice",
        "How difficult have these problems made it for you to do your work, take care of things at home, or get along with other people?",
        ("LA6572-7", "LA6573-5", "LA6575-0", "LA6574-3"),
    ),
)
PRAPARE = (
    ("56051-6", "choice", "Do you consider yourself Hispanic/Latino?", ("LA33-6", "LA32-8", "LA30122-8")),
    (
        "32624-9",
        "choice",
        "Race",
        ("LA6156-9", "LA14045-1", "LA30187-1", "LA14042-8", "LA4457-3", "LA4-4", "LA46-8", "LA30122-8"),
    ),
    (
        "93035-4",
        "choice",
        "At any point in the past 2 years, has season or migrant farm work been your or your family's main source of income?",
        ("LA33-6", "LA32-8", "LA30122-8"),
    ),
    (
        "93034-7",
        "choice",
        "Have you been discharged from the armed forces of the United States?",
        ("LA33-6", "LA32-8", "LA30122-8"),
    ),
    ("54899-0", "choice", "Preferred language", ("LA43-5", "LA30188-9", "LA30122-8")),
    ("63512-8", "integer", "How many people are living or staying at this address?", ()),
    ("71802-3", "choice", "Housing status", ("LA30189-7", "LA30190-5", "LA30122-8")),
    ("93033-9", "choice", "Are you worried about losing your housing?", ("LA33-6", "LA32-8", "LA30122-8")),
    ("56799-0", "string", "Address", ()),
    ("82589-3", "choice", "Highest level of educ", ("LA30191-3", "LA30192-1", "LA30193-9", "LA30122-8")),
    (
        "67875-5",
        "choice",
        "Employment status current",
        ("LA17956-6", "LA30138-4", "LA30136-8", "LA30137-6", "LA30122-8"),
    ),
    (
        "76437-3",
        "choice",
        "Primary insurance",
        ("LA30194-7", "LA17849-3", "LA30195-4", "LA15652-3", "LA30196-2", "LA30197-0", "LA6350-8"),
    ),
    (
        "63586-2",
        "decimal",
        "What was your best estimate of the total income of all family members from all sources, before taxes, in last year?",
        (),
    ),
    (
        "93031-3",
        "choice",
        "In the past year, have you or any family members you live with been unable to get any of the following when it was really needed?",
        ("LA30125-1", "LA30126-9", "LA30124-4", "LA30127-7", "LA30128-5", "LA30129-3", "LA46-8", "LA30122-8"),
    ),
    (
        "93030-5",
        "choice",
        "Has lack of transportation kept you from medical appointments, meetings, work, or from getting things needed for daily living?",
        ("LA30133-5", "LA30134-3", "LA32-8", "LA30257-2"),
    ),
    (
        "93029-7",
        "choice",
        "How often do you see or talk to people that you care about and feel close to (For example: talking to friends on the phone, visiting friends or family, going to church or club meetings)?",
        ("LA27722-0", "LA30130-1", "LA30131-9", "LA30132-7", "LA30122-8"),
    ),
    (
        "93038-8",
        "choice",
        "Stress is when someone feels tense, nervous, anxious or can't sleep at night because their mind is troubled. How stressed are you?",
        ("LA6568-5", "LA13863-8", "LA13909-9", "LA13902-4", "LA13914-9", "LA30122-8"),
    ),
    (
        "93028-9",
        "choice",
        "In the past year, have you spent more than 2 nights in a row in a jail, prison, detention center, or juvenile correctional facility?",
        ("LA33-6", "LA32-8", "LA30122-8"),
    ),
    ("93027-1", "choice", "Are you a refugee?", ("LA33-6", "LA32-8", "LA30122-8")),
    (
        "93026-3",
        "choice",
        "Do you feel physically and emotionally safe where you currently live?",
        ("LA33-6", "LA32-8", "LA14072-5", "LA30122-8"),
    ),
    (
        "76501-6",
        "choice",
        "Within the last year, have you been afraid of your partner or ex-partner?",
        ("LA33-6", "LA32-8"),
    ),
)
HUNGER_VITAL_SIGN = (
    (
        "88122-7",
        "choice",
        "(I/We) worried whether (my/our) food would run out before (I/we) got money to buy more.",
        ("LA28397-0", "LA6729-3", "LA28398-8", "LA15775-2"),
    ),
    (
        "88123-5",
        "choice",
        "The food that (I/we) bought just didn't last, and (I/we) didn't have money to get more.",
        ("LA28397-0", "LA6729-3", "LA28398-8", "LA15775-2"),
    ),
    ("88124-3", "choice", "Food insecurity risk", ("LA19952-3", "LA19983-8")),
)
PHQ_2 = (
    *PHQ_9[:2],
    ("55758-7", "integer", "Patient Health Questionnaire-2 total score", ()),
)
GAD_7 = (
    ("69725-0", "choice", "Feeling nervous, anxious or on edge", PHQ_FREQUENCY),
    ("68509-9", "choice", "Not being able to stop or control worrying", PHQ_FREQUENCY),
    ("69733-4", "choice", "Worrying too much about different things", PHQ_FREQUENCY),
    ("69734-2", "choice", "Trouble relaxing", PHQ_FREQUENCY),
    ("69735-9", "choice", "Being so restless that it is hard to sit still", PHQ_FREQUENCY),
    ("69689-8", "choice", "Becoming easily annoyed or irritable", PHQ_FREQUENCY),
    ("69736-7", "choice", "Feeling afraid as if something awful might happen", PHQ_FREQUENCY),
    ("70274-6", "integer", "Generalized anxiety disorder 7 item (GAD-7) total score", ()),
    (
        "69726-8",
        "choice",
        "If you checked off any problems, how difficult have these made it for you to do your work, "
        "take care of things at home, or get along with other people?",
        DIFFICULTY,
    ),
)
AHC_HRSN = (
    ("71802-3", "choice", "What is your living situation today?", ("LA31993-1", "LA31994-9", "LA31995-6")),
    (
        "88122-7",
        "choice",
        "Within the past 12 months, you worried that your food would run out before you got money to buy more.",
        FOOD,
    ),
    (
        "88123-5",
        "choice",
        "Within the past 12 months, the food you bought just didn't last and you didn't have money to get more.",
        FOOD,
    ),
    (
        "93030-5",
        "choice",
        "In the past 12 months, has lack of reliable transportation kept you from medical "
        "appointments, meetings, work or from getting things needed for daily living?",
        YES_NO,
    ),
    (
        "96779-4",
        "choice",
        "In the past 12 months has the electric, gas, oil, or water company threatened to shut off "
        "services in your home?",
        (*YES_NO, "LA32002-0"),
    ),
    ("95618-5", "choice", "How often does anyone, including family and friends, physically hurt you?", HOW_OFTEN),
    (
        "95617-7",
        "choice",
        "How often does anyone, including family and friends, insult or talk down to you?",
        HOW_OFTEN,
    ),
    ("95616-9", "choice", "How often does anyone, including family and friends, threaten you with harm?", HOW_OFTEN),
    ("95615-1", "choice", "How often does anyone, including family and friends, scream or curse at you?", HOW_OFTEN),
)
FORMS = {
    "44249-1": ("phq-9", PHQ_9),
    "55757-9": ("phq-2", PHQ_2),
    "69737-5": ("gad-7", GAD_7),
    "96777-8": ("ahc-hrsn", AHC_HRSN),
    "93025-5": ("prapare", PRAPARE),
    "88121-9": ("hunger-vital-sign", HUNGER_VITAL_SIGN),
}

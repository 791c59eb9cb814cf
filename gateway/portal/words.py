"""Plain words for coded things a person reads on the portal: vaccines by CVX code, lab tests by LOINC code.

One table per kind, keyed by code, so other word tables (units, for one) can join the same place. A code not
listed keeps the words the chart gave it.
"""

# CVX code -> the vaccine as a parent would name it (CDC's "vaccine group", in everyday words:
# https://www2.cdc.gov/vaccines/iis/iisstandards/vaccines.asp?rpt=vg). Doses of one group are listed together.
VACCINE_GROUPS = {
    **dict.fromkeys(("08", "43", "44", "45", "189"), "Hepatitis B"),
    **dict.fromkeys(("83", "52", "84", "85"), "Hepatitis A"),
    **dict.fromkeys(("116", "119", "122"), "Rotavirus"),
    **dict.fromkeys(("20", "106", "107", "110", "120", "130", "146"), "Diphtheria, tetanus and whooping cough (DTaP)"),
    "115": "Tetanus, diphtheria and whooping cough (Tdap)",
    **dict.fromkeys(("09", "113", "138", "139"), "Tetanus and diphtheria (Td)"),
    **dict.fromkeys(("17", "46", "47", "48", "49", "51"), "Hib (Haemophilus influenzae type b)"),
    **dict.fromkeys(("100", "133", "152", "215", "216", "33", "109"), "Pneumococcal (pneumonia)"),
    **dict.fromkeys(("10", "89"), "Polio (IPV)"),
    **dict.fromkeys(("03", "94"), "Measles, mumps and rubella (MMR)"),
    "21": "Chickenpox (varicella)",
    **dict.fromkeys(
        ("88", "140", "141", "150", "153", "155", "158", "161", "166", "168", "171", "185", "186", "197", "205"),
        "Flu (influenza)",
    ),
    **dict.fromkeys(("62", "118", "137", "165"), "HPV (human papillomavirus)"),
    **dict.fromkeys(("108", "114", "136", "147", "203"), "Meningococcal (MenACWY)"),
    **dict.fromkeys(("162", "163", "164"), "Meningococcal B"),
    **dict.fromkeys(("121", "187", "188"), "Shingles (zoster)"),
    **dict.fromkeys(("207", "208", "210", "211", "212", "213", "217", "218", "219", "221", "228", "300"), "COVID-19"),
}

# LOINC code -> the test's everyday name where the LOINC long common name is unfriendly; the detail page keeps
# the LOINC name ("LOINC name"). Panels and their results alike.
LAB_NAMES = {
    "24323-8": "Comprehensive metabolic panel",
    "58410-2": "Complete blood count (CBC)",
    "57698-3": "Cholesterol panel",
    "4548-4": "Hemoglobin A1c (average blood sugar)",
    "3016-3": "Thyroid-stimulating hormone (TSH)",
    "1989-3": "Vitamin D",
    "2345-7": "Glucose (blood sugar)",
    "3094-0": "Urea nitrogen (BUN)",
    "2160-0": "Creatinine",
    "2951-2": "Sodium",
    "2823-3": "Potassium",
    "2075-0": "Chloride",
    "2028-9": "Carbon dioxide (bicarbonate)",
    "17861-6": "Calcium",
    "2885-2": "Total protein",
    "1751-7": "Albumin",
    "1975-2": "Total bilirubin",
    "6768-6": "Alkaline phosphatase (ALP)",
    "1742-6": "Alanine aminotransferase (ALT)",
    "1920-8": "Aspartate aminotransferase (AST)",
    "6690-2": "White blood cells",
    "789-8": "Red blood cells",
    "718-7": "Hemoglobin",
    "4544-3": "Hematocrit",
    "787-2": "Average red cell size (MCV)",
    "785-6": "Hemoglobin per red cell (MCH)",
    "786-4": "Hemoglobin concentration in red cells (MCHC)",
    "788-0": "Red cell size variation (RDW)",
    "777-3": "Platelets",
    "2093-3": "Total cholesterol",
    "2571-8": "Triglycerides",
    "2085-9": "HDL (good) cholesterol",
    "18262-6": "LDL (bad) cholesterol",
    "13457-7": "LDL (bad) cholesterol",
    "24357-6": "Urine dipstick test (urinalysis)",
    "20454-5": "Protein in urine",
    "25428-4": "Sugar (glucose) in urine",
    "5794-3": "Blood in urine",
}

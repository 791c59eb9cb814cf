from mappers.udi import EMPTY, parse_hrf

# The FHIR R4 Device UDI example's carrier (GS1, all five parts).
FULL = "(01)09504000059118(17)141120(10)7654321D(21)10987654d321"


def test_all_parts():
    assert parse_hrf(FULL) == {
        "device_identifier": "09504000059118",
        "manufacture_date": None,
        "expiration_date": "2014-11-20",
        "lot_number": "7654321D",
        "serial_number": "10987654d321",
    }


def test_manufacture_date_and_day_00_is_the_months_last_day():
    assert parse_hrf("(01)00643169007222(11)160120(17)240200(21)BLC200461H") == {
        "device_identifier": "00643169007222",
        "manufacture_date": "2016-01-20",
        "expiration_date": "2024-02-29",
        "lot_number": None,
        "serial_number": "BLC200461H",
    }


def test_device_identifier_alone():
    assert parse_hrf(" (01)00844588003288 ") == {**EMPTY, "device_identifier": "00844588003288"}


def test_malformed_carriers_give_no_parts():
    malformed = [
        None,
        "",
        "+H123PARTNO1234567890120/$$420020216LOT123456789012345/SXYZ456789012345678/16D20130202C",  # HIBCC
        "(10)LOT1(01)09504000059118",  # the device identifier must come first
        "(01)0950400005911(10)LOT1",  # 13 digits
        "(01)09504000059118(17)141320",  # month 13
        "(01)09504000059118(17)140231",  # 31 February
        "(01)09504000059118(99)X",  # an application identifier that is not a UDI part
        "(01)09504000059118(10)A(10)B",  # a part twice
        "(01)09504000059118 junk(10)A",  # text between parts is not part of a value
        "(01)09504000059118(10)ABC" + "x" * 20,  # lot longer than 20
        "(01)09504000059118(10)",  # empty value
    ]
    assert [parse_hrf(carrier) for carrier in malformed] == [EMPTY] * len(malformed)

"""Authorization.to_json writes what dataclasses.asdict gave (the stored context of codes and refresh tokens)."""

import json
from dataclasses import asdict

from smart_auth.models import Authorization


def test_to_json_is_the_dataclass_as_a_dict_and_reads_back():
    authorization = Authorization("uid-1", "pat-1", "Patient/pat-1", "openid patient/*.rs", "fam-1", 7, False, 99, "e1")
    assert authorization.to_json() == json.dumps(asdict(authorization))
    assert Authorization.from_json(authorization.to_json()) == authorization

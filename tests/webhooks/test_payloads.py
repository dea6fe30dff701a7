import json
from urllib.parse import urlencode

import pytest

from app.integrations.zoho.webhooks import zoho_dedupe_key, zoho_salesorder
from app.parsing import Malformed
from app.webhooks.auth import valid_api_key, valid_zoho_signature, zoho_signature


def test_json_and_form_variants():
    so = {"salesorder_id": 4285925000000038115, "status": "confirmed"}
    raw = json.dumps({"salesorder": so}).encode()
    assert zoho_salesorder(raw, "application/json")["salesorder_id"] == "4285925000000038115"
    form = urlencode({"JSONString": json.dumps({"salesorder": so})}).encode()
    assert zoho_salesorder(form, "application/x-www-form-urlencoded")["status"] == "confirmed"


@pytest.mark.parametrize("raw,ct,reason", [
    (b"", "application/json", "empty"),
    (b"{not json", "application/json", "not valid JSON"),
    (b"[1,2]", "application/json", "not a JSON object"),
    (b'{"invoice": {}}', "application/json", "no `salesorder`"),
    (b'{"salesorder": {"status": "confirmed"}}', "application/json", "no salesorder_id"),
    (b"foo=bar", "application/x-www-form-urlencoded", "no JSONString"),
])
def test_malformed_bodies_have_reasons(raw, ct, reason):
    with pytest.raises(Malformed, match=reason):
        zoho_salesorder(raw, ct)


def test_dedupe_key_uses_last_modified_time():
    so = {"salesorder_id": "1", "last_modified_time": "2026-11-23T10:00:00+0530", "status": "confirmed"}
    assert zoho_dedupe_key(so, b"x") == "so:1:2026-11-23T10:00:00+0530:confirmed"
    assert zoho_dedupe_key({"salesorder_id": "1"}, b"x").startswith("sha256:")


def test_signatures_constant_time_helpers():
    raw = b'{"salesorder": {}}'
    sig = zoho_signature(raw, "secret12345678")
    assert valid_zoho_signature(raw, sig, "secret12345678")
    assert valid_zoho_signature(raw, sig.upper(), "secret12345678")
    assert not valid_zoho_signature(raw + b" ", sig, "secret12345678")
    assert not valid_zoho_signature(raw, None, "secret12345678")
    assert not valid_zoho_signature(raw, sig, "")
    assert valid_api_key("tok", "tok") and not valid_api_key("tok2", "tok") and not valid_api_key(None, "tok")


def test_signature_over_query_parameters_and_body():
    """Zoho's documented example: params subscription_id=90343, name=basic sign as
    'namebasicsubscription_id90343' + body."""
    raw = b'{"created_date":"2019-03-06","event_id":"5675"}'
    query = [("subscription_id", "90343"), ("name", "basic")]
    sig = zoho_signature(b"namebasicsubscription_id90343" + raw, "secret12345678")
    assert valid_zoho_signature(raw, sig, "secret12345678", query)
    assert not valid_zoho_signature(raw, sig, "secret12345678")  # without the params it does not verify
    assert not valid_zoho_signature(raw, sig, "secret12345678", [("name", "other")])

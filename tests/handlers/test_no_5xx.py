"""No request a client can send makes the API answer 5xx (property test over bodies, references, headers)."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .events import api

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=20,
)
# Bodies shaped like a complaint, with any field given any value, plus arbitrary JSON and arbitrary text.
complaint_like = st.fixed_dictionaries(
    {},
    optional={
        "complainant": json_values | st.fixed_dictionaries({"name": json_values, "email": json_values}),
        "product_or_service": json_values, "description": json_values, "remedy_sought": json_values,
        "problem_date": json_values, "attachments": json_values, "preferred_contact_channel": json_values,
        "consent": json_values, "channel": json_values, "safety_concern": json_values,
    },
)
surrogates = st.just('{"complainant": {"name": "\\ud800", "email": "a@example.com"}, "product_or_service": "x", '
                     '"description": "\\udfff", "remedy_sought": "unknown", "message": "\\ud83d", "body": "\\ud800", '
                     '"owner": "\\ud800"}')
bodies = complaint_like.map(json.dumps) | json_values.map(json.dumps) | st.text(max_size=200) | surrogates
references = st.text(max_size=50)
fuzz = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@fuzz
@given(body=bodies, key=st.none() | st.text(max_size=300))
def test_filing_never_fails_on_our_side(stack, body: str, key: str | None) -> None:
    event = api("api_file_complaint.json", body=body, headers={"Idempotency-Key": key})
    response = stack.functions.invoke("PublicApiFunction", event)
    assert response["statusCode"] < 500, response["body"]


@fuzz
@given(reference=references, token=st.none() | st.text(max_size=250), body=bodies)
def test_status_and_messages_never_fail_on_our_side(stack, reference: str, token: str | None, body: str) -> None:
    for name, payload in (("api_complaint_status.json", ...), ("api_add_message.json", body)):
        event = api(name, reference=reference or "x", body=payload, headers={"X-Access-Token": token})
        response = stack.functions.invoke("PublicApiFunction", event)
        assert response["statusCode"] < 500, response["body"]


@fuzz
@given(query=st.dictionaries(st.sampled_from(["status", "owner", "priority", "limit", "cursor", "x"]),
                             st.text(max_size=60), max_size=4),
       groups=st.text(max_size=40), body=bodies, reference=references)
def test_staff_routes_never_fail_on_our_side(stack, query, groups, body, reference) -> None:
    responses = [
        stack.functions.invoke("StaffApiFunction", api("api_staff_list_cases.json", query=query, groups=groups)),
        stack.functions.invoke("StaffApiFunction", api("api_staff_assign_owner.json", reference=reference or "x",
                                                       body=body, groups="supervisor")),
        stack.functions.invoke("StaffApiFunction", api("api_staff_add_note.json", reference=reference or "x",
                                                       body=body, groups=groups)),
    ]
    for response in responses:
        assert response["statusCode"] < 500, response["body"]

"""No request a client can send makes the API answer 5xx (property test over bodies, references, headers, roles),
and the requests reach the success paths as well as the refusals: each test asserts both were answered."""

from __future__ import annotations

import json
import uuid
from collections import Counter

from amends.domain.lifecycle import Status
from amends.domain.model import Role
from hypothesis import HealthCheck, event, example, given, settings
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

# What a real client sends, so that the fuzz reaches the success paths too and not only the refusals: complaints
# the intake model takes, messages and notes, the real roles (alone, several, or mixed with anything), a real case.
texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=60)
valid_complaints = st.fixed_dictionaries(
    {
        "complainant": st.fixed_dictionaries({
            "name": texts, "email": st.from_regex(r"[a-z]{1,12}@example\.(com|org)", fullmatch=True)}),
        "product_or_service": texts, "description": st.text(min_size=1, max_size=300),
        "remedy_sought": st.sampled_from(["unknown", "A refund of the fee"]) | texts,
    },
    optional={"problem_date": st.dates().map(str), "safety_concern": st.booleans(),
              "preferred_contact_channel": st.sampled_from(["email", "post"]), "channel": st.sampled_from(["web"]),
              "consent": st.fixed_dictionaries({"contact": st.booleans()})},
)
ROLES = [role.value for role in Role]
groups = (st.sampled_from(ROLES) | st.lists(st.sampled_from(ROLES), min_size=1, max_size=3).map(",".join)
          | st.lists(st.sampled_from(ROLES), min_size=1, max_size=2).map(lambda g: f"[{' '.join(g)}]")
          | st.text(max_size=40))


def reached(counts: Counter, route: str, code: int) -> None:
    counts[(route, code)] += 1
    event(f"{route} answered {code}")


def mark_for_statistics(test):  # as hypothesis marks a state machine's runTest: --hypothesis-show-statistics
    test.is_hypothesis_test = True  # reports the events of the @given runs inside (each route's status codes)
    return test


def filed(stack) -> tuple[str, str]:
    response = stack.functions.invoke("PublicApiFunction", api("api_file_complaint.json",
                                                               headers={"Idempotency-Key": str(uuid.uuid4())}))
    assert response["statusCode"] == 201, response["body"]
    answer = json.loads(response["body"])
    return answer["reference"], answer["access_token"]


@mark_for_statistics
def test_filing_never_fails_on_our_side(stack) -> None:
    counts: Counter = Counter()

    @fuzz
    @given(body=valid_complaints.map(json.dumps) | bodies,
           key=st.none() | st.uuids().map(str) | st.text(max_size=300))
    @example(body=json.dumps({"complainant": {"name": "Ada", "email": "ada@example.com"}, "product_or_service": "Card",
                              "description": "Charged twice.", "remedy_sought": "unknown"}), key=str(uuid.uuid4()))
    @example(body="{}", key=None)
    def file(body: str, key: str | None) -> None:
        event_ = api("api_file_complaint.json", body=body, headers={"Idempotency-Key": key})
        response = stack.functions.invoke("PublicApiFunction", event_)
        reached(counts, "file", response["statusCode"])
        assert response["statusCode"] < 500, response["body"]

    file()
    assert counts[("file", 201)] and any(400 <= code < 500 for _, code in counts), counts  # both sides reached


@mark_for_statistics
def test_status_and_messages_never_fail_on_our_side(stack) -> None:
    counts: Counter = Counter()
    reference, token = filed(stack)

    real_request = st.tuples(st.sampled_from([reference, reference.lower()]), st.just(token),
                             st.fixed_dictionaries({"message": texts}).map(json.dumps))
    fuzzed = st.tuples(st.sampled_from([reference]) | references, st.none() | st.text(max_size=250), bodies)

    @fuzz
    @given(request=real_request | fuzzed)
    @example(request=(reference, token, json.dumps({"message": "Any news?"})))  # reached whatever is drawn
    @example(request=("CMP-2026-0000000", None, "{}"))
    def ask(request: tuple[str, str | None, str]) -> None:
        reference, token, body = request
        for name, payload in (("api_complaint_status.json", ...), ("api_add_message.json", body)):
            event_ = api(name, reference=reference or "x", body=payload, headers={"X-Access-Token": token})
            response = stack.functions.invoke("PublicApiFunction", event_)
            reached(counts, name, response["statusCode"])
            assert response["statusCode"] < 500, response["body"]

    ask()
    assert counts[("api_complaint_status.json", 200)] and counts[("api_complaint_status.json", 404)], counts
    assert any(name == "api_add_message.json" and code < 300 for name, code in counts), counts


@mark_for_statistics
def test_staff_routes_never_fail_on_our_side(stack) -> None:
    counts: Counter = Counter()
    real, _ = filed(stack)

    @fuzz
    @given(query=st.dictionaries(st.sampled_from(["status", "owner", "priority", "limit", "cursor", "x"]),
                                 st.sampled_from([s.value for s in Status]) | st.integers(1, 100).map(str)
                                 | st.text(max_size=60), max_size=4),
           groups=groups, body=bodies, reference=st.just(real) | references,
           owner=st.sampled_from(["handler-1", "7d4e1c2a-5b6f-4a8e-9c3d-2f1e0a9b8c7d"]) | st.text(max_size=40),
           note=texts)
    # Besides what is drawn, one request each that must succeed and be refused, so the assertions below never rest
    # on the luck of the draw (the drawn examples still reach both sides most of the time).
    @example(query={}, groups="supervisor", body="{}", reference=real, owner="handler-1", note="Called back")
    @example(query={}, groups="auditor", body="{}", reference=real, owner="handler-1", note="Called back")
    @example(query={}, groups="nobody", body="{}", reference=real, owner="handler-1", note="Called back")
    def call(query, groups, body, reference, owner, note) -> None:
        reference = reference or "x"
        for name, payload, roles in (
            ("api_staff_list_cases.json", ..., groups),
            ("api_staff_assign_owner.json", body, "supervisor"),
            ("api_staff_assign_owner.json", {"owner": owner, "reason": note}, groups),
            ("api_staff_add_note.json", body, groups),
            ("api_staff_add_note.json", {"body": note}, groups),
        ):
            event_ = api(name, reference=reference, body=payload, groups=roles,
                         query=query if name == "api_staff_list_cases.json" else None)
            response = stack.functions.invoke("StaffApiFunction", event_)
            reached(counts, name, response["statusCode"])
            assert response["statusCode"] < 500, response["body"]

    call()
    for name in ("api_staff_list_cases.json", "api_staff_assign_owner.json", "api_staff_add_note.json"):
        assert any(n == name and code < 300 for n, code in counts), (name, counts)  # a success on every route
        assert any(n == name and code in (401, 403) for n, code in counts), (name, counts)  # and a refusal

"""Receipt rules of intake: the SLA policy a new case is handled under is chosen from its product, channel and the
organisation's jurisdiction; the reference carries the organisation's prefix; the access token is 256 bits."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import amends
from amends.domain.clock import FixedClock
from amends.domain.model import Channel
from amends.services import intake
from amends.settings import Settings

from .conftest import make_submission
from .memory import MemoryCaseRepository

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
SHIPPED_SLA = Path(amends.__file__).parent / "config" / "sla"


def filed(product: str = "Current account", channel: Channel = Channel.WEB, **settings: object) -> intake.FiledComplaint:
    return intake.file_complaint(make_submission(product_or_service=product), channel, repo=MemoryCaseRepository(),
                                 clock=FixedClock(T0),
                                 settings=Settings(table_name="t", event_bus_name="b", **settings))


def test_a_gb_organisation_handles_a_complaint_under_the_fca_dispute_rules() -> None:
    assert filed(jurisdiction="GB").case.sla.pinned.policy.id == "fca-disp"


def test_a_gb_payments_complaint_gets_the_payment_services_time_frame() -> None:
    assert filed("Payments", jurisdiction="GB").case.sla.pinned.policy.id == "fca-psd2"


def test_an_organisation_without_jurisdiction_uses_the_default_policy_even_for_payments() -> None:
    assert filed("Payments").case.sla.pinned.policy.id == "default"


def test_the_channel_a_complaint_came_by_can_choose_its_policy(tmp_path: Path) -> None:
    sla = tmp_path / "sla"
    shutil.copytree(SHIPPED_SLA, sla)
    rules = json.loads((sla / "rules.json").read_text())
    rules["rules"].insert(0, {"when": {"channel": "phone"}, "policy": "cfpb"})
    (sla / "rules.json").write_text(json.dumps(rules))
    assert filed(channel=Channel.PHONE, sla_config_dir=str(sla)).case.sla.pinned.policy.id == "cfpb"
    assert filed(channel=Channel.WEB, sla_config_dir=str(sla)).case.sla.pinned.policy.id == "default"


def test_the_reference_carries_the_organisations_prefix_and_the_year_of_receipt() -> None:
    reference = filed(reference_prefix="ACME").case.reference
    assert reference.startswith("ACME-2026-") and len(reference) == len("ACME-2026-") + 6


def test_the_access_token_is_256_random_bits_in_url_safe_base64() -> None:
    assert len(filed().access_token) == 43  # 32 bytes, base64url without padding

"""How to complain (ISO 10002 7.1): published from configuration, derived from the intake model itself,
so what we say we need is exactly what the API asks for."""

from __future__ import annotations

from typing import Any

from amends.domain.deadlines import Limit
from amends.domain.model import Submission
from amends.domain.sla import Milestone
from amends.settings import Settings


def process_information(settings: Settings) -> dict[str, Any]:
    fields = {
        name: (field.description or name.replace("_", " ")) + ("" if field.is_required() else " (optional)")
        for name, field in Submission.model_fields.items()
    }
    policy, calendar = settings.sla_config().policy_for(jurisdiction=settings.jurisdiction)
    frames = {m.name: _frame(m) for m in policy.milestones}
    return {
        # Only the channels that are live; email intake joins this list when it lands.
        "how_to_complain": ["Online or in our app (POST /complaints)"],
        "what_to_provide": fields,
        # The policy most complaints get (the one for the organisation's jurisdiction): a case's own dates are on
        # its status page. Business days are those of the calendar named here.
        "time_frames": {**frames, "calendar": calendar.description or calendar.id,
                        "paused": "The time we take is paused while we wait for information we asked you for."},
        "how_to_get_status": "GET /complaints/{reference} with the access token you were given, in the "
                             "X-Access-Token header.",
        "recourse": [
            "Ask for an internal review by someone not involved in the first decision.",
            settings.external_recourse,
        ],
        "charges": "Complaining is free of charge at every stage.",
    }


def _frame(m: Milestone) -> str:
    text = f"{m.description}: within {m.limit}" + ("" if m.early_exit else " of receipt")
    if m.extension:
        text += f" ({Limit(m.extension.within, m.extension.unit)} after a holding reply saying why)"
    return text + "."

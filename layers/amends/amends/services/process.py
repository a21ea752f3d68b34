"""How to complain (ISO 10002 7.1): published from configuration, derived from the intake model itself,
so what we say we need is exactly what the API asks for."""

from __future__ import annotations

from typing import Any

from amends.domain.model import Submission
from amends.settings import Settings


def process_information(settings: Settings) -> dict[str, Any]:
    fields = {
        name: (field.description or name.replace("_", " ")) + ("" if field.is_required() else " (optional)")
        for name, field in Submission.model_fields.items()
    }
    return {
        # Only the channels that are live; email intake joins this list when it lands.
        "how_to_complain": ["Online or in our app (POST /complaints)"],
        "what_to_provide": fields,
        "time_frames": {
            "acknowledgement": "Promptly, normally within one working day, with your reference.",
            "final_response": f"Within {settings.final_response_days} days of receipt. If we need longer we will "
                              f"tell you why before then, and about your right to go to the ombudsman.",
        },
        "how_to_get_status": "GET /complaints/{reference} with the access token you were given, in the "
                             "X-Access-Token header.",
        "recourse": [
            "Ask for an internal review by someone not involved in the first decision.",
            settings.external_recourse,
        ],
        "charges": "Complaining is free of charge at every stage.",
    }

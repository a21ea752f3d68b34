"""Request parameters and response headers both API functions share."""

from __future__ import annotations

import json
from functools import partial
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.shared.json_encoder import Encoder

Reference = Annotated[str, Path(min_length=3, max_length=40, description="The complaint reference, e.g. CMP-2026-7K3F9Q")]

# Answers that carry personal data or secrets must not be kept by browsers or proxies.
NO_STORE = {"Cache-Control": "no-store"}

# Answers in UTF-8 as they are: escaped (json.dumps' default) an emoji takes 12 bytes instead of 4, and a case with
# long texts in other scripts would come three times nearer Lambda's 6 MB response limit.
serialize = partial(json.dumps, separators=(",", ":"), ensure_ascii=False, cls=Encoder)

"""Free text from outside: how long it may be and that it can be stored."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, StringConstraints, model_validator

# Free texts people write at length (a description, the remedy sought, a message, a note), in characters.
# Nobody is turned away for writing too much: 100,000 characters is ten times the longest narrative in the CFPB
# sample. How many bytes that makes (up to 4 per character) is the storage adapter's concern, not the model's.
LONG_TEXT_MAX_CHARS = 100_000
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=LONG_TEXT_MAX_CHARS)]


def reject_unencodable_text(value: Any) -> Any:
    """Refuse text that is not valid Unicode (a lone surrogate sent as a JSON escape): it cannot be stored."""

    def walk(v: Any, path: str) -> None:
        if isinstance(v, str):
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError(f"{path or 'text'} contains characters that are not valid Unicode") from None
        elif isinstance(v, dict):
            for k, item in v.items():
                walk(k, path)
                walk(item, f"{path}.{k}" if path else str(k))
        elif isinstance(v, list):
            for i, item in enumerate(v):
                walk(item, f"{path}[{i}]")

    walk(value, "")
    return value


class CleanText(BaseModel):
    """Base for models filled from outside: every string in the input must be storable."""

    @model_validator(mode="before")
    @classmethod
    def _encodable(cls, value: Any) -> Any:
        return reject_unencodable_text(value)

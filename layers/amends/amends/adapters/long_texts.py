"""Long free texts, kept out of the item they belong to and stored in parts under a byte budget.

DynamoDB limits an item to 400 KB, counted in UTF-8 bytes of attribute names and values, and the case item is
copied into three indexes. A description of 100,000 characters is 100 KB in Latin script, 300 KB in CJK and
400 KB in emoji. So the long texts of a case (description, remedy sought) and of a timeline entry (a message or
a note) never sit in their owner item: each is cut into parts of at most ``PART_BYTES`` bytes, on character
boundaries, and each part is an item of its own in the case's partition, written in the owner's transaction.

| item      | sk                                  | what                                    |
|-----------|-------------------------------------|-----------------------------------------|
| text part | ``<owner sk>#TEXT#<field>#<n:03d>`` | part ``n`` (from 0) of the owner's text |

The owner item keeps ``texts`` (how many parts each text has) and ``texts_sha256`` (a digest of the texts), so a
read can tell a complete text from a damaged one and a write can tell whether the texts it would leave in place
are still the ones the case holds.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

# Well under the 400 KB (409,600 bytes) item limit: a part item's keys, kind and attribute names add < 200 bytes.
PART_BYTES = 350_000
TEXT_MARK = "#TEXT#"


class DamagedText(Exception):
    """A stored text is missing parts or does not match its digest; it is never served incomplete."""


def split_utf8(text: str, budget: int = PART_BYTES) -> list[str]:
    """Cut ``text`` into parts of at most ``budget`` UTF-8 bytes, never inside a character."""
    if budget < 4:
        raise ValueError("a part must hold at least one character (4 bytes)")
    data = text.encode("utf-8")
    parts, start = [], 0
    while start < len(data):
        end = min(start + budget, len(data))
        while end < len(data) and data[end] & 0xC0 == 0x80:  # a continuation byte: back off to a boundary
            end -= 1
        parts.append(data[start:end].decode("utf-8"))
        start = end
    return parts


def digest(texts: Mapping[str, str]) -> str:
    return hashlib.sha256(json.dumps(dict(texts), sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def take(doc: dict[str, Any], paths: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    """Remove the texts at ``paths`` from ``doc`` (a model dump) and return them by field name."""
    texts = {}
    for name, path in paths.items():
        *parents, leaf = path
        holder: Any = doc
        for key in parents:
            holder = holder.get(key) if isinstance(holder, dict) else None
        value = holder.pop(leaf, None) if isinstance(holder, dict) else None  # an absent owner has no text
        if value is not None:
            texts[name] = value
    return texts


def put_back(doc: dict[str, Any], paths: Mapping[str, tuple[str, ...]], texts: Mapping[str, str]) -> dict[str, Any]:
    for name, text in texts.items():
        *parents, leaf = paths[name]
        holder = doc
        for key in parents:
            holder = holder[key]
        holder[leaf] = text
    return doc


def manifest(texts: Mapping[str, str]) -> dict[str, Any]:
    """The attributes the owner item carries about its texts."""
    return {"texts": {name: len(split_utf8(text)) for name, text in texts.items()}, "texts_sha256": digest(texts)}


def part_items(pk: str, owner_sk: str, texts: Mapping[str, str]) -> list[dict[str, Any]]:
    return [
        {"pk": pk, "sk": f"{owner_sk}{TEXT_MARK}{name}#{n:03d}", "kind": "text", "text": part}
        for name, text in texts.items()
        for n, part in enumerate(split_utf8(text))
    ]


def owner_of(part_sk: str) -> str:
    return part_sk.split(TEXT_MARK, 1)[0]


def assemble(owner: Mapping[str, Any], parts: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """The owner's texts from its part items (any order); raises ``DamagedText`` unless all are there intact.

    Parts numbered beyond the owner's count are left over from a longer earlier text and are ignored.
    """
    expected: dict[str, int] = owner.get("texts") or {}
    found: dict[str, dict[int, str]] = {}
    for item in parts:
        name, n = item["sk"].split(TEXT_MARK, 1)[1].rsplit("#", 1)
        found.setdefault(name, {})[int(n)] = item["text"]
    texts = {}
    for name, count in expected.items():
        pieces = found.get(name, {})
        missing = [n for n in range(count) if n not in pieces]
        if missing:
            raise DamagedText(f"{owner['pk']} {owner['sk']}: {name} lacks parts {missing} of {count}")
        texts[name] = "".join(pieces[n] for n in range(count))
    if expected and digest(texts) != owner.get("texts_sha256"):
        raise DamagedText(f"{owner['pk']} {owner['sk']}: the texts do not match their digest")
    return texts

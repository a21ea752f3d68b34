"""Staff reading a case's files: each with a link that downloads it under its name, for a few minutes only."""

from __future__ import annotations

from amends.domain.errors import AttachmentNotFound
from amends.domain.model import Case, StoredFile
from amends.domain.reference import normalise
from amends.services.ports import AttachmentStore, CaseRepository

LINK_SECONDS = 300  # long enough to click, short enough that a forwarded link soon stops working


def files_with_links(reference: str, *, repo: CaseRepository,
                     store: AttachmentStore) -> tuple[Case, list[tuple[StoredFile, str]]]:
    case = repo.get(normalise(reference))
    return case, [(f, _link(case.reference, f, store)) for f in case.files]


def link_to(reference: str, sha256: str, *, repo: CaseRepository, store: AttachmentStore) -> tuple[StoredFile, str]:
    case = repo.get(normalise(reference))
    found = next((f for f in case.files if f.sha256 == sha256.lower()), None)
    if found is None:
        raise AttachmentNotFound(case.reference, sha256)
    return found, _link(case.reference, found, store)


def _link(reference: str, file: StoredFile, store: AttachmentStore) -> str:
    return store.link(reference, file.sha256, filename=file.filename, content_type=file.content_type,
                      expires_in=LINK_SECONDS)

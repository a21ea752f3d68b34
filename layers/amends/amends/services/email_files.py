"""The files of an inbound email, onto its case: stored by SHA-256 under the case, described on it, and those left
out (over a limit) listed with why, for the acknowledgement to tell the sender and for staff to see.

Stored before the case is written: a file without its case is harmless (the key is its hash, written again the same
on a retry), a case naming a file that is not there would not be.
"""

from __future__ import annotations

import email
import email.policy
from datetime import datetime

from amends.domain.attachments import AttachmentLimits, Attachments, attachments_of
from amends.domain.model import Change, LeftOutFile, StoredFile
from amends.services.ports import AttachmentStore
from amends.settings import Settings

MB = 1024 * 1024
Kept = tuple[tuple[StoredFile, ...], tuple[LeftOutFile, ...]]


def files_of(raw: bytes, settings: Settings) -> Attachments:
    limits = AttachmentLimits(max_count=settings.attachment_max_count, max_bytes=int(settings.attachment_max_mb * MB),
                              max_total_bytes=int(settings.attachment_max_total_mb * MB))
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
    except Exception:  # noqa: BLE001 - documented not to raise; if it does, no files (the raw message is kept)
        return Attachments()
    return attachments_of(message, limits)


def keep(found: Attachments, reference: str, store: AttachmentStore, at: datetime) -> Kept:
    """Store each file for the case; what to record on it."""
    stored, seen = [], set()
    for file in found.files:
        if file.sha256 in seen:  # the same bytes twice in one message: stored and listed once, by the first name
            continue
        seen.add(file.sha256)
        store.put(reference, file.sha256, file.data, filename=file.name, content_type=file.content_type)
        stored.append(StoredFile(filename=file.name, content_type=file.content_type, size_bytes=file.size,
                                 sha256=file.sha256, added_at=at))
    left_out = tuple(LeftOutFile(filename=f.name, size_bytes=f.size, why=f.why) for f in found.left_out)
    return tuple(stored), left_out


def with_files(change: Change, kept: Kept) -> Change:
    """The change with the files on its case (a file the case has already, by hash, is not listed twice)."""
    stored, left_out = kept
    if not stored and not left_out:
        return change
    case = change.case
    known = {f.sha256 for f in case.files}
    new = [file for file in stored if file.sha256 not in known]  # keep() lists each of a message's hashes once
    return change.model_copy(update={"case": case.model_copy(update={
        "files": case.files + tuple(new), "files_left_out": case.files_left_out + left_out})})


def summary(kept: Kept) -> str | None:
    """One line for a timeline entry or the mail log: the files kept and those left out."""
    stored, left_out = kept
    parts = []
    if stored:
        parts.append("Attached: " + "; ".join(f"{f.filename} ({f.content_type}, {f.size_bytes:,} bytes)"
                                              for f in stored))
    if left_out:
        parts.append("Not kept: " + "; ".join(f"{f.filename} ({f.why})" for f in left_out))
    return " ".join(parts) or None

"""Our mail as part of the complainant's conversation: threading headers, the reference in the subject, and a
reply-to address that brings the answer back to the case.

For a case an email opened, the acknowledgement answers that email (``In-Reply-To``/``References`` = its
Message-ID, ``Re: <their subject> [<reference>]``). Every mail about a case gets the case's reply address,
``complaints+<token>@...`` (``Settings.reply_address``), with a random token made once per case: the reference is
in the subject for people, the token in the address for the matcher, and one cannot be had from the other.
"""

from __future__ import annotations

from dataclasses import replace

from amends.domain.model import Case, Channel
from amends.domain.outgoing_mail import OutgoingMail
from amends.domain.sent_mail import reply_address
from amends.services.ports import SentMailStore
from amends.settings import Settings

MAX_SUBJECT_CHARS = 200


def threaded(mail: OutgoingMail, case: Case, *, store: SentMailStore, settings: Settings,
             thread: tuple[str, ...] = ()) -> OutgoingMail:
    """``mail`` with the case's reply address, the reference in its subject and, when there is a conversation
    (``thread``: Message-IDs, oldest first; else the email that opened the case and the complainant's latest reply),
    its threading headers: ``In-Reply-To`` the newest, ``References`` all of them."""
    base = settings.reply_address or settings.sender_address
    reply_to = reply_address(base, store.reply_token(case.reference)) if base else mail.reply_to
    subject = mail.subject
    origin = store.origin_of(case.reference) if case.channel is Channel.EMAIL else None
    latest = store.latest_reply(case.reference)  # a web case's complainant may have replied to our mail too
    if not thread:
        thread = tuple(dict.fromkeys(m for m in (origin[0] if origin else None, latest) if m))
    if origin:
        theirs = origin[1].strip()
        if theirs:
            subject = theirs if theirs.lower().startswith("re:") else f"Re: {theirs}"
    if case.reference.lower() not in subject.lower():
        subject = f"{subject[:MAX_SUBJECT_CHARS - len(case.reference) - 3]} [{case.reference}]"
    ids = tuple(f"<{m.strip('<>')}>" for m in thread)
    return replace(mail, subject=subject, reply_to=reply_to, in_reply_to=ids[-1] if ids else mail.in_reply_to,
                   references=ids or mail.references)

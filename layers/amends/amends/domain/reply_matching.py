"""Which case an inbound email answers, in order of trust (the brief's "replies that open a new ticket" and
"replies that land in the wrong case"):

1. our Message-IDs in ``In-Reply-To``, then in ``References`` (newest first): the mail answers one we sent;
2. the reply token in a recipient address (``complaints+<token>@...``): the address we gave for the case;
3. a case reference in the subject: anyone can type one, so it writes into the case only when the sender is the
   case's complainant (or representative); otherwise the match is kept *untrusted*, and the mail opens a new case
   linked to it, with the reason for staff.

Pure: the lookups (sent mail, tokens, the case's contact address) are passed in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from amends.domain.sent_mail import SentMail, message_ids, references_in, token_in


class MatchedBy(StrEnum):
    MESSAGE_ID = "message_id"
    TOKEN = "token"
    SUBJECT = "subject"


@dataclass(frozen=True)
class ReplyMatch:
    reference: str
    by: MatchedBy
    trusted: bool  # False: a subject reference from someone who is not the case's complainant
    why: str


@dataclass(frozen=True)
class ReplyClues:
    """What an inbound email says about what it answers."""

    sender: str | None
    subject: str
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()

    @classmethod
    def of(cls, headers: Mapping[str, str], sender: str | None, subject: str,
           recipients: tuple[str, ...]) -> ReplyClues:
        """From an ``InboundMail``'s lower-cased headers and SES's recipients (the envelope, which a ``To``
        rewritten by a forwarder does not change)."""
        return cls(sender=sender, subject=subject, in_reply_to=message_ids(headers.get("in-reply-to")),
                   references=message_ids(headers.get("references")), recipients=recipients)


@dataclass(frozen=True)
class Lookups:
    sent: Callable[[str], SentMail | None]  # our message by its Message-ID
    case_of_token: Callable[[str], str | None]  # the case a reply token was given for
    contacts_of: Callable[[str], tuple[str, ...] | None]  # the complainant's and representative's addresses; None: no case
    reply_base: str | None  # the inbound address the tokens are added to
    reference_prefix: str


def by_message_id(clues: ReplyClues, look: Lookups) -> ReplyMatch | None:
    for header, ids in (("In-Reply-To", clues.in_reply_to), ("References", tuple(reversed(clues.references)))):
        for message_id in ids:
            sent = look.sent(message_id)
            if sent is not None and sent.case_reference:
                return ReplyMatch(sent.case_reference, MatchedBy.MESSAGE_ID, True,
                                  f"{header} names our message <{message_id}> ({sent.kind})")
    return None


def by_token(clues: ReplyClues, look: Lookups) -> ReplyMatch | None:
    token = token_in(clues.recipients, look.reply_base)
    reference = look.case_of_token(token) if token else None
    if reference is None:
        return None
    return ReplyMatch(reference, MatchedBy.TOKEN, True, "sent to the case's reply address")


def by_subject(clues: ReplyClues, look: Lookups) -> ReplyMatch | None:
    for reference in references_in(clues.subject, look.reference_prefix):
        contacts = look.contacts_of(reference)
        if contacts is None:
            continue  # a reference no case has: nothing to match
        sender = (clues.sender or "").strip().lower()
        if sender and sender in {c.strip().lower() for c in contacts}:
            return ReplyMatch(reference, MatchedBy.SUBJECT, True, f"subject names {reference}, sent by its complainant")
        return ReplyMatch(reference, MatchedBy.SUBJECT, False,
                          f"subject names {reference}, but the sender {clues.sender or '(none)'} is not its "
                          f"complainant: opened as a new case linked to it")
    return None


RULES: tuple[Callable[[ReplyClues, Lookups], ReplyMatch | None], ...] = (by_message_id, by_token, by_subject)


def match_reply(clues: ReplyClues, look: Lookups) -> ReplyMatch | None:
    """The first rule that matches, or None: the mail is about no case of ours (a new complaint)."""
    for rule in RULES:
        found = rule(clues, look)
        if found:
            return found
    return None

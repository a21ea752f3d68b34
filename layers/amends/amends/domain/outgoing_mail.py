"""An email we send: what the notifier, the acknowledgement and staff replies hand to the mailer.

Plain data, no AWS: the mailer adapter turns it into MIME. Threading headers make a reply land in the
complainant's existing conversation; ``automatic`` marks mail no person wrote (RFC 3834 ``Auto-Submitted``),
which well-behaved mail systems never answer, so it can never start a loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class OutgoingMail:
    to: str
    subject: str
    text: str
    html: str | None = None
    reply_to: str | None = None
    #: the Message-ID we are answering, and the thread so far (RFC 5322 3.6.4)
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    #: True for mail the system sends by itself (acknowledgements, notifications); False for a person's reply
    automatic: bool = True
    #: the case it is about, and what kind of message it is (``acknowledgement``, ``staff_reply``, ...)
    case_reference: str | None = None
    kind: str = "notification"
    headers: dict[str, str] = field(default_factory=dict)
    #: this letter's own idempotency key (the event that called for it, its kind, its addressee): a letter with one
    #: is sent at most once, so a retried event resends only the letters that did not go
    letter: str | None = None
    #: True for mail to a member of staff at the address the staff directory gives: not held back by the hourly
    #: limit on automatic mail, which guards against auto-responders of the outside world (a supervisor may rightly
    #: get many escalations in an hour, and mail to staff answers case events, never inbound mail)
    to_staff: bool = False

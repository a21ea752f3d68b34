"""``make bench``, inbound email: messages a second through the ingest function, next to the standard library's own
parse of the same corpus, as a ratio.

The corpus: the email channel's tricky messages (``tests/mail/corpus``: broken charsets, TNEF-less attachments,
malformed MIME, auto-replies...) and complaints written from the real CFPB narratives in ``../shared/data`` (plain
text, and plain with an HTML alternative, as mail clients send them), each with its own Message-ID. The standard
library's figure is ``email.message_from_bytes`` (modern policy) and the content of every text part: the floor of
any reading of the mail. The ingest figure is the whole function on the local stack, one message after another:
SES's event, the raw message read from the bucket, parsing and cleaning, the loop rules, then the case, its claim and
its mail-log entry in one DynamoDB Local transaction (or the entry alone), through the local runtime's IPC. What each
message became is printed with the figures, so a corpus that stopped making cases would show.
"""

from __future__ import annotations

import csv
import email
import email.policy
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "mail" / "corpus"
CFPB = ROOT.parent / "shared" / "data" / "cfpb" / "complaints_sample.csv"
COMPLAINTS = 200


def corpus() -> list[bytes]:
    messages = [path.read_bytes() for path in sorted(CORPUS.glob("*.eml"))]
    if CFPB.exists():
        with CFPB.open(newline="", encoding="utf-8") as rows:
            narratives = [r for r in csv.DictReader(rows) if r["Consumer complaint narrative"].strip()]
        for n, row in enumerate(narratives[:COMPLAINTS]):
            mail = EmailMessage()
            mail["From"] = f"Consumer {n} <consumer-{n}@example.com>"
            mail["To"] = "complaints@example.com"
            mail["Subject"] = f"{row['Product']}: {row['Issue']}"[:200]
            mail["Message-ID"] = f"<{uuid.uuid4()}@mail.example.com>"
            mail["Date"] = email.utils.format_datetime(datetime.now(UTC))
            mail.set_content(row["Consumer complaint narrative"])
            if n % 2:
                paragraphs = "".join(f"<p>{p}</p>" for p in row["Consumer complaint narrative"].split("\n") if p)
                mail.add_alternative(f"<html><body>{paragraphs}</body></html>", subtype="html")
            messages.append(mail.as_bytes())
    return messages


def stdlib_parse(messages: list[bytes]) -> float:
    """Seconds for the standard library to parse every message and read every text part."""
    started = time.perf_counter()
    for raw in messages:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        for part in message.walk():
            if part.get_content_maintype() == "text":
                try:
                    part.get_content()
                except Exception:  # noqa: BLE001, S112 - a broken part: the figure is the parse, not the repair
                    continue
    return time.perf_counter() - started


def ingest_through_the_function(messages: list[bytes]) -> tuple[float, Counter[str]]:
    from amends_local.aws import client
    from amends_local.smtp import ses_event
    from amends_local.stack import LocalStack

    with LocalStack(ROOT, persist=False, api_port=None, quiet=True) as stack:
        template = stack.template
        [rule] = template.receipt_rules()
        s3 = client("s3", stack.moto_endpoint)
        bucket, function_arn = template.physical_name("RawMailBucket"), template.arn("EmailIngestFunction")
        events = []
        for raw in messages:
            ses_id = uuid.uuid4().hex
            s3.put_object(Bucket=bucket, Key=f"inbound/{ses_id}", Body=raw)
            events.append(ses_event(raw, message_id=ses_id, mail_from="sender@example.net",
                                    recipients=["complaints@example.com"], verdicts={}, rule=rule,
                                    function_arn=function_arn, invocation_type="Event", at=datetime.now(UTC)))
        stack.functions.invoke("EmailIngestFunction", events[0])  # a warm environment: not a cold-start figure
        outcomes: Counter[str] = Counter()
        started = time.perf_counter()
        for event in events[1:]:
            outcomes[stack.functions.invoke("EmailIngestFunction", event)["outcome"]] += 1
        elapsed = time.perf_counter() - started
        stack.wait_until_idle(timeout=300)  # the cases' pipelines end before the stack stops
    return elapsed, outcomes


def ingestion_throughput(say: Callable[..., Any]) -> None:
    messages = corpus()
    say(f"\nInbound email: {len(messages)} messages ({len(list(CORPUS.glob('*.eml')))} tricky ones from "
        f"tests/mail/corpus, the rest complaints from CFPB narratives), {sum(map(len, messages)) / 1024:.0f} KiB")
    parse = min(stdlib_parse(messages) for _ in range(3))
    say(f"  the standard library's parse (email, policy.default, every text part): "
        f"{len(messages) / parse:,.0f} messages/s")
    elapsed, outcomes = ingest_through_the_function(messages)
    rate = (len(messages) - 1) / elapsed
    say(f"  through the ingest function on the local stack, one after another: {rate:,.1f} messages/s "
        f"({elapsed / (len(messages) - 1) * 1000:.1f} ms each), {rate / (len(messages) / parse):.4f} of the "
        f"standard library's rate")
    say("  what they became: " + ", ".join(f"{n} {outcome}" for outcome, n in outcomes.most_common()))

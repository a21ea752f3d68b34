"""End to end: files sent by email over real SMTP are kept for the case (name, type, size, SHA-256), staff download
them through short-lived links, the sender is told which were not kept, and a reply adds its files to the case."""

from __future__ import annotations

import email
import email.policy
import hashlib
import time
import uuid
from email.message import EmailMessage

import pytest
import requests

from tests.conftest import sent_emails

from .test_email_end_to_end import mail, smtp_send, token

pytestmark = pytest.mark.e2e
PDF = b"%PDF-1.4\n" + b"statement line\n" * 200 + b"%%EOF"


def with_files(subject: str, sender: str, files: list[tuple[str, str, bytes]], **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"Ada Lovelace <{sender}>"
    message["To"] = "complaints@example.com"
    message["Subject"] = subject
    message["Message-ID"] = f"<{uuid.uuid4()}@example.com>"
    for name, value in headers.items():
        message[name] = value
    message.set_content("I was charged twice; my statement is attached.")
    for name, content_type, data in files:
        maintype, subtype = content_type.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message


def eventually(check, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def test_files_by_email_are_kept_downloadable_and_a_reply_adds_more(stack) -> None:
    url = stack.api_url
    auth = {"Authorization": f"Bearer {token(url)}"}
    run = uuid.uuid4().hex[:8]
    sender = f"ada-{run}@example.com"
    extras = [(f"receipt-{n:02d}.txt", "text/plain", f"receipt {n}".encode()) for n in range(20)]
    smtp_send(stack, with_files(f"Charged twice {run}", sender, [("statement.pdf", "application/pdf", PDF), *extras]))
    stack.wait_until_idle(timeout=60)
    [entry] = [e for e in mail(url, auth, limit=100)["items"] if e["subject"] == f"Charged twice {run}"]
    reference = entry["case_reference"]
    assert entry["outcome"] == "case_created" and "Not kept: receipt-19.txt (more than 20 files" in entry["reason"]

    listed = requests.get(f"{url}/staff/cases/{reference}/attachments", headers=auth, timeout=10).json()
    assert [f["filename"] for f in listed["files"]] == ["statement.pdf"] + [f"receipt-{n:02d}.txt" for n in range(19)]
    statement = listed["files"][0]
    assert statement["content_type"] == "application/pdf" and statement["size_bytes"] == len(PDF)
    assert statement["sha256"] == hashlib.sha256(PDF).hexdigest() and statement["expires_in"] == 300
    assert [(f["filename"], f["why"]) for f in listed["left_out"]] == [("receipt-19.txt", "more than 20 files in one message")]
    downloaded = requests.get(statement["download_url"], timeout=10)
    assert downloaded.status_code == 200 and downloaded.content == PDF
    assert "statement.pdf" in downloaded.headers["content-disposition"]

    redirect = requests.get(f"{url}/staff/cases/{reference}/attachments/{statement['sha256']}", headers=auth,
                            allow_redirects=False, timeout=10)
    assert redirect.status_code == 302 and requests.get(redirect.headers["location"], timeout=10).content == PDF
    missing = requests.get(f"{url}/staff/cases/{reference}/attachments/{'0' * 64}", headers=auth, timeout=10)
    assert missing.status_code == 404 and missing.json()["type"].endswith("/attachment-not-found")
    assert requests.get(f"{url}/staff/cases/{reference}/attachments", timeout=10).status_code == 401

    [ack] = eventually(lambda: [m for m in sent_emails(sender) if reference in str(m["Subject"])])
    text = email.message_from_bytes(ack.as_bytes(), policy=email.policy.default).get_body(("plain",)).get_content()
    assert "could not be kept" in text and "receipt-19.txt" in text

    reply = with_files(f"Re: {ack['Subject']}", sender, [("photo.jpg", "image/jpeg", b"\xff\xd8\xff photo")],
                       **{"In-Reply-To": ack["Message-ID"], "References": ack["Message-ID"]})
    smtp_send(stack, reply)
    stack.wait_until_idle(timeout=60)
    files = requests.get(f"{url}/staff/cases/{reference}/attachments", headers=auth, timeout=10).json()["files"]
    assert [f["filename"] for f in files][-1] == "photo.jpg" and len(files) == 21
    case = requests.get(f"{url}/staff/cases/{reference}", headers=auth, timeout=10).json()
    assert any("Attached: photo.jpg (image/jpeg" in (e.get("body") or "") for e in case["timeline"])

"""Staff reading a case's files (services/case_files.py): every file with a link naming it, for five minutes; one
file by its SHA-256 (any case of hex), and a file the case does not have refused with where to look."""

from __future__ import annotations

from datetime import timedelta

import pytest
from amends.domain.errors import AttachmentNotFound, CaseNotFound
from amends.domain.model import StoredFile
from amends.services import case_files

from tests.unit.cases import T0, opening
from tests.unit.memory import MemoryCaseRepository

REF = "CMP-2026-7K3F9Q"
PDF = StoredFile(filename="statement.pdf", content_type="application/pdf", size_bytes=24, sha256="ab" * 32,
                 added_at=T0)
JPG = StoredFile(filename="photo.jpg", content_type="image/jpeg", size_bytes=9, sha256="cd" * 32,
                 added_at=T0 + timedelta(days=1))


class Links:
    def __init__(self) -> None:
        self.asked: list[tuple] = []

    def put(self, *args, **kwargs) -> None:  # not used by reading
        raise AssertionError("reading files stores nothing")

    def link(self, reference, sha256, *, filename, content_type, expires_in):
        self.asked.append((reference, sha256, filename, content_type, expires_in))
        return f"https://files.example/{reference}/{sha256}/{filename}"


def repo_with_files() -> MemoryCaseRepository:
    repo = MemoryCaseRepository()
    change = opening(REF)
    case = change.case.model_copy(update={"files": (PDF, JPG)})
    repo.record(change.model_copy(update={"case": case}))
    return repo


def test_every_file_comes_with_a_five_minute_link_naming_it() -> None:
    links = Links()
    case, files = case_files.files_with_links(REF.lower(), repo=repo_with_files(), store=links)
    assert case.reference == REF and case_files.LINK_SECONDS == 300
    assert files == [(PDF, f"https://files.example/{REF}/{'ab' * 32}/statement.pdf"),
                     (JPG, f"https://files.example/{REF}/{'cd' * 32}/photo.jpg")]
    assert links.asked == [(REF, "ab" * 32, "statement.pdf", "application/pdf", 300),
                           (REF, "cd" * 32, "photo.jpg", "image/jpeg", 300)]


def test_one_file_by_its_hash_in_any_case_of_hex() -> None:
    links = Links()
    file, url = case_files.link_to(REF.lower(), ("cd" * 32).upper(), repo=repo_with_files(), store=links)
    assert file == JPG and url == f"https://files.example/{REF}/{'cd' * 32}/photo.jpg"
    assert links.asked == [(REF, "cd" * 32, "photo.jpg", "image/jpeg", 300)]


def test_a_file_the_case_does_not_have_is_refused_saying_where_to_look() -> None:
    links = Links()
    with pytest.raises(AttachmentNotFound) as refused:
        case_files.link_to(REF, "ef" * 32, repo=repo_with_files(), store=links)
    assert str(refused.value) == (f"Complaint {REF} has no file with SHA-256 {'ef' * 32}. "
                                  f"GET /staff/cases/{REF}/attachments lists its files.")
    assert links.asked == []
    with pytest.raises(CaseNotFound):
        case_files.files_with_links("CMP-2026-ZZZZZZ", repo=repo_with_files(), store=links)

"""A case's files as the staff API shows them (GET /staff/cases/{reference}/attachments)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from amends.domain.model import LeftOutFile, StoredFile


class FileLink(BaseModel):
    filename: str
    content_type: str
    size_bytes: int
    sha256: str = Field(description="The file's SHA-256: its id on the case, and a check on what was downloaded.")
    added_at: datetime
    download_url: str = Field(description="Downloads the file under its name; works for expires_in seconds.")
    expires_in: int

    @classmethod
    def of(cls, file: StoredFile, url: str, expires_in: int) -> FileLink:
        return cls(**file.model_dump(), download_url=url, expires_in=expires_in)


class CaseFiles(BaseModel):
    reference: str
    files: list[FileLink]
    left_out: list[LeftOutFile] = Field(description="Files the complainant's email carried that were not kept (over "
                                                    "a limit), with why: the raw message in the mail log has them.")

"""Raw inbound messages, as SES's S3 action stored them (read only: SES writes, lifecycle rules expire)."""

from __future__ import annotations

from typing import Any


class S3RawMail:
    def __init__(self, bucket: str, client: Any) -> None:
        self.bucket = bucket
        self.client = client

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()

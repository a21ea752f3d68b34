"""Files complainants send by email, in the attachments bucket: ``attachments/<reference>/<sha256>``.

The key is the file's SHA-256 within its case, so the same file sent twice is stored once and a redelivered email
writes the same object again, harmlessly. Downloads are presigned GETs that name the file (RFC 6266
``filename*``) and its type; the bucket is private, so a link is the only way in, and it expires.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote


def key_of(reference: str, sha256: str) -> str:
    return f"attachments/{reference}/{sha256}"


class S3Attachments:
    def __init__(self, bucket: str, client: Any) -> None:
        self.bucket = bucket
        self.client = client

    def put(self, reference: str, sha256: str, data: bytes, *, filename: str, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key_of(reference, sha256), Body=data, ContentType=content_type,
                               Metadata={"filename": quote(filename)}, ChecksumAlgorithm="SHA256")

    def link(self, reference: str, sha256: str, *, filename: str, content_type: str, expires_in: int) -> str:
        return self.client.generate_presigned_url("get_object", ExpiresIn=expires_in, Params={
            "Bucket": self.bucket, "Key": key_of(reference, sha256), "ResponseContentType": content_type,
            "ResponseContentDisposition": f"attachment; filename*=UTF-8''{quote(filename)}"})

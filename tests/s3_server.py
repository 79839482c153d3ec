"""A local server that speaks S3's wire protocol (moto in server mode), for the object storage
tests: IMP talks to it over HTTP exactly as to any S3-compatible service."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from tests.harness import free_port

ACCESS_KEY, SECRET_KEY, REGION = "imp-test-key", "imp-test-secret", "us-east-1"


class S3Server:
    def __init__(self) -> None:
        self.port = free_port()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per request otherwise
        self.client: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> S3Server:
        self._server.start()
        self.client = boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )
        return self

    def stop(self) -> None:
        self._server.stop()

    def new_bucket(self) -> str:
        name = f"imp-files-{uuid.uuid4().hex[:12]}"
        self.client.create_bucket(Bucket=name)
        return name

    def settings(self, bucket: str, **overrides: object) -> dict[str, object]:
        """The ``IMP_*`` settings that put an instance's files in ``bucket``."""
        return {
            "files_backend": "s3",
            "s3_endpoint": self.url,
            "s3_bucket": bucket,
            "s3_region": REGION,
            "s3_access_key": ACCESS_KEY,
            "s3_secret_key": SECRET_KEY,
            "s3_addressing": "path",
            **overrides,
        }

    def keys(self, bucket: str) -> list[str]:
        listed = self.client.list_objects_v2(Bucket=bucket)
        return sorted(item["Key"] for item in listed.get("Contents", []))

    def body(self, bucket: str, key: str) -> bytes:
        return bytes(self.client.get_object(Bucket=bucket, Key=key)["Body"].read())

    def unfinished_uploads(self, bucket: str) -> list[str]:
        listed = self.client.list_multipart_uploads(Bucket=bucket)
        return [upload["Key"] for upload in listed.get("Uploads", [])]

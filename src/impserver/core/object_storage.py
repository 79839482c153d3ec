"""Files in S3-compatible object storage (AWS S3, Yandex Object Storage, VK Cloud, MinIO, Ceph):
what lets any number of instances share uploads.

The bucket stays private. Downloads are either streamed through IMP, after the same checks as
every download, or answered with a redirect to a presigned address that expires within minutes
(``IMP_FILES_DOWNLOAD=redirect``), which spares IMP the bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import aiohttp
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import BotoCoreError, ClientError
from starlette.responses import RedirectResponse, Response, StreamingResponse

from impserver.core.errors import DomainError
from impserver.core.storage import (
    CHUNK,
    Download,
    file_gone,
    new_key,
    storage_unavailable,
    too_large,
)

if TYPE_CHECKING:
    from impserver.core.config import Settings

log = logging.getLogger(__name__)

# S3 takes a multipart upload's parts at 5 MiB or more (all but the last); a file smaller than
# one part goes up in a single PUT. Parts are held in memory while they are sent.
PART_BYTES = 8 * 1024 * 1024
MISSING = frozenset({"NoSuchKey", "404", "NotFound"})


class S3FileStorage:
    def __init__(
        self,
        *,
        bucket: str,
        endpoint: str = "",
        public_endpoint: str = "",
        region: str = "us-east-1",
        access_key: str = "",
        secret_key: str = "",
        addressing: str = "auto",
        downloads: str = "stream",
        url_seconds: int = 300,
    ) -> None:
        self.bucket = bucket
        self.downloads = downloads
        self.url_seconds = url_seconds
        self._session = get_session()
        config = AioConfig(
            s3={"addressing_style": addressing},
            signature_version="s3v4",
            connect_timeout=5,
            read_timeout=30,
            retries={"max_attempts": 2, "mode": "standard"},
        )
        credentials = (
            {"aws_access_key_id": access_key, "aws_secret_access_key": secret_key}
            if access_key or secret_key
            else {}
        )
        self._client_options: dict[str, Any] = {
            "region_name": region,
            "config": config,
            **credentials,
            **({"endpoint_url": endpoint} if endpoint else {}),
        }
        # Presigned addresses name the host browsers reach, which may differ from the one IMP
        # uses (a storage server inside the deployment's own network).
        self._presign_options: dict[str, Any] = {
            **self._client_options,
            **({"endpoint_url": public_endpoint} if public_endpoint else {}),
        }
        self._clients = contextlib.AsyncExitStack()
        self._client: Any = None
        self._presigner: Any = None
        self._opening = asyncio.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> S3FileStorage:
        return cls(
            bucket=settings.s3_bucket,
            endpoint=settings.s3_endpoint,
            public_endpoint=settings.s3_public_endpoint,
            region=settings.s3_region,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key,
            addressing=settings.s3_addressing,
            downloads=settings.files_download,
            url_seconds=settings.files_url_seconds,
        )

    async def _s3(self) -> Any:
        if self._client is None:
            async with self._opening:
                if self._client is None:
                    self._client = await self._clients.enter_async_context(
                        self._session.create_client("s3", **self._client_options)
                    )
        return self._client

    async def _signer(self) -> Any:
        if self._presign_options == self._client_options:
            return await self._s3()
        if self._presigner is None:
            async with self._opening:
                if self._presigner is None:
                    self._presigner = await self._clients.enter_async_context(
                        self._session.create_client("s3", **self._presign_options)
                    )
        return self._presigner

    async def close(self) -> None:
        await self._clients.aclose()
        self._client = self._presigner = None

    async def save(self, chunks: AsyncIterator[bytes], max_bytes: int) -> tuple[str, int]:
        key = new_key()
        return key, await self.store(key, chunks, max_bytes)

    async def store(
        self, key: str, chunks: AsyncIterator[bytes], max_bytes: int | None = None
    ) -> int:
        """Stream bytes to ``key``: one PUT for a small file, a multipart upload for a large
        one, never more than a part in memory. Returns the size."""
        s3 = await self._s3()
        size = 0
        pending = bytearray()
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []

        async def send_part(body: bytes) -> None:
            nonlocal upload_id
            with _reachable():
                if upload_id is None:
                    started = await s3.create_multipart_upload(Bucket=self.bucket, Key=key)
                    upload_id = started["UploadId"]
                number = len(parts) + 1
                sent = await s3.upload_part(
                    Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body
                )
            parts.append({"ETag": sent["ETag"], "PartNumber": number})

        try:
            async for chunk in chunks:
                size += len(chunk)
                if max_bytes is not None and size > max_bytes:
                    raise too_large(max_bytes)
                pending += chunk
                if len(pending) >= PART_BYTES:
                    await send_part(bytes(pending[:PART_BYTES]))
                    del pending[:PART_BYTES]
            with _reachable():
                if upload_id is None:
                    await s3.put_object(Bucket=self.bucket, Key=key, Body=bytes(pending))
                else:
                    if pending:
                        await send_part(bytes(pending))
                    await s3.complete_multipart_upload(
                        Bucket=self.bucket,
                        Key=key,
                        UploadId=upload_id,
                        MultipartUpload={"Parts": parts},
                    )
        except BaseException:
            # An upload refused mid-stream (too large, the client gone, storage failing) leaves
            # no parts behind to be stored and billed.
            if upload_id is not None:
                with contextlib.suppress(Exception):
                    await s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            raise
        return size

    async def _get(self, key: str, byte_range: str | None = None) -> Any:
        s3 = await self._s3()
        with _reachable():
            extra = {"Range": byte_range} if byte_range else {}
            return await s3.get_object(Bucket=self.bucket, Key=key, **extra)

    async def read(self, key: str) -> AsyncIterator[bytes]:
        found = await self._get(key)
        async for chunk in _body(found["Body"]):
            yield chunk

    async def exists(self, key: str) -> bool:
        return await self.head(key) is not None

    async def head(self, key: str) -> dict[str, Any] | None:
        """The stored object's size (``ContentLength``) and checksum (``ETag``); None if there
        is no such object."""
        s3 = await self._s3()
        try:
            with _reachable():
                found: dict[str, Any] = await s3.head_object(Bucket=self.bucket, Key=key)
                return found
        except DomainError as exc:
            if exc.code == "file_gone":
                return None
            raise

    async def delete(self, key: str) -> None:
        s3 = await self._s3()
        with _reachable():
            await s3.delete_object(Bucket=self.bucket, Key=key)

    async def respond(
        self,
        key: str,
        download: Download,
        request_headers: Mapping[str, str],
        *,
        may_redirect: bool = True,
    ) -> Response:
        if self.downloads == "redirect" and may_redirect:
            if await self.head(key) is None:  # our own 404, not the storage's
                raise file_gone()
            signer = await self._signer()
            url = await signer.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self.bucket,
                    "Key": key,
                    "ResponseContentType": download.media_type,
                    "ResponseContentDisposition": download.disposition,
                },
                ExpiresIn=self.url_seconds,
            )
            # The address is good for minutes: no cache may keep the redirect longer.
            return RedirectResponse(url, status_code=307, headers={"Cache-Control": "no-store"})
        byte_range = request_headers.get("range")
        try:
            found = await self._get(key, byte_range)
        except _RangeNotSatisfiable:
            return Response(status_code=416, headers={"Content-Range": "bytes */*"})
        headers = {
            **download.headers,
            "Content-Length": str(found["ContentLength"]),
            "Accept-Ranges": "bytes",
        }
        status = 200
        if byte_range and found.get("ContentRange"):
            headers["Content-Range"] = found["ContentRange"]
            status = 206
        return StreamingResponse(
            _body(found["Body"]),
            status_code=status,
            media_type=download.media_type,
            headers=headers,
        )


class _RangeNotSatisfiable(Exception):
    """The range a download asked for lies outside the file (answered 416)."""


async def _body(body: Any) -> AsyncIterator[bytes]:
    try:
        with _reachable():
            while chunk := await body.read(CHUNK):
                yield chunk
    finally:
        body.close()


@contextlib.contextmanager
def _reachable() -> Iterator[None]:
    """The storage's failures as the API's: a missing key is a file that is gone (404);
    anything else the storage or the way to it did wrong is a 503 to try again."""
    try:
        yield
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in MISSING:
            raise file_gone() from None
        if code == "InvalidRange":
            raise _RangeNotSatisfiable("The requested range is not in the file.") from None
        log.warning("object storage refused a request: %s", exc)
        raise storage_unavailable() from exc
    except (TimeoutError, BotoCoreError, aiohttp.ClientError, OSError) as exc:
        log.warning("object storage unreachable: %s", exc)
        raise storage_unavailable() from exc

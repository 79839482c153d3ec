"""Moving the files of the local backend into object storage (``imp files migrate --to s3``).

Keys stay as they are, so the database needs no change: once every file is copied, the
instances switch to ``IMP_FILES_BACKEND=s3``. Each copy is read back and compared (size and
MD5) before it counts; a file already in the bucket with the same size and checksum is left
alone, so the command can be run again after a failure, or once more just before switching.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiofiles

from impserver.core.errors import DomainError
from impserver.core.object_storage import S3FileStorage
from impserver.core.storage import CHUNK, LocalFileStorage


@dataclass
class MigrationReport:
    copied: int = 0
    already_there: int = 0
    bytes_copied: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)


async def _local_chunks(path: Path) -> AsyncIterator[bytes]:
    async with aiofiles.open(path, "rb") as source:
        while chunk := await source.read(CHUNK):
            yield chunk


async def _digest(chunks: AsyncIterator[bytes]) -> tuple[int, str]:
    """The size and MD5 of a stream of bytes."""
    digest, size = hashlib.md5(usedforsecurity=False), 0
    async for chunk in chunks:
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


async def _same_in_bucket(target: S3FileStorage, key: str, size: int, md5: str) -> bool:
    head = await target.head(key)
    if head is None or head["ContentLength"] != size:
        return False
    # A single PUT's ETag is the MD5; a multipart upload's is not, so that one is read back.
    if head.get("ETag", "").strip('"') == md5:
        return True
    return await _digest(target.read(key)) == (size, md5)


async def copy_to_object_storage(
    source: LocalFileStorage, target: S3FileStorage, say: Callable[[str], None]
) -> MigrationReport:
    report = MigrationReport()
    for key, path in source.files():
        try:
            size, md5 = await _digest(_local_chunks(path))
            if await _same_in_bucket(target, key, size, md5):
                report.already_there += 1
                continue
            await target.store(key, _local_chunks(path))
            if await _digest(target.read(key)) != (size, md5):
                raise ValueError("the copy read back differs from the file")
        except (DomainError, OSError, ValueError) as exc:
            reason = getattr(exc, "detail", None) or str(exc)
            report.failed.append((key, reason))
            say(f"failed: {key}: {reason}")
            continue
        report.copied += 1
        report.bytes_copied += size
        say(f"copied: {key} ({size} bytes)")
    return report

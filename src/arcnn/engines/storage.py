"""Where inputs are read and outputs written: local paths, or object-store URLs (``s3://bucket/key``)
through pyarrow's filesystems.

A :class:`Store` is a pyarrow filesystem plus the URL scheme it serves; ``None`` stands for the local
disk, which keeps the local engine's atomic temp-file-and-link writes (:func:`arcnn.files.save_image`).
An S3 endpoint other than AWS's (MinIO, Ceph, moto) is taken from ``AWS_ENDPOINT_URL``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from arcnn.files import IMAGE_SUFFIXES

__all__ = ["Store", "is_url", "store_for", "split_url", "list_images"]


def is_url(text: str) -> bool:
    """Whether ``text`` names an object-store location (``scheme://...``) rather than a local path."""
    return "://" in text and not text.startswith("file://")


@dataclass(frozen=True)
class Store:
    """A remote filesystem (pyarrow) and its scheme; paths inside it are ``bucket/key``."""

    fs: Any  # pyarrow.fs.FileSystem: pickled to every worker with its endpoint and options
    scheme: str

    def url(self, path: str) -> str:
        """The URL of ``path`` (``bucket/key``) in this store, as error lines name it."""
        return f"{self.scheme}://{path}"

    def exists(self, path: str) -> bool:
        import pyarrow.fs as pafs  # type: ignore[import-untyped]

        return bool(self.fs.get_file_info(path).type != pafs.FileType.NotFound)

    def is_dir(self, path: str) -> bool:
        import pyarrow.fs as pafs

        return bool(self.fs.get_file_info(path).type == pafs.FileType.Directory)

    def put(self, path: str, data: bytes) -> None:
        """Write ``data`` as one object: it appears whole when the stream closes (one PUT for small
        objects, a completed multipart upload for large ones), never half-written."""
        with self.fs.open_output_stream(path) as stream:
            stream.write(data)


def split_url(url: str) -> tuple[str, str]:
    """``s3://bucket/a/b/`` -> ("s3", "bucket/a/b/"): the scheme and the path inside the store."""
    parts = urlsplit(url)
    return parts.scheme, parts.netloc + parts.path


def store_for(url: str) -> Store:
    """The store serving ``url``: S3 at ``AWS_ENDPOINT_URL`` when set (http or https, as it says),
    else whatever pyarrow's ``FileSystem.from_uri`` makes of it (AWS S3 with its region, GCS, HDFS)."""
    import pyarrow.fs as pafs

    scheme = urlsplit(url).scheme
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if scheme == "s3" and endpoint:
        ep = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        fs = pafs.S3FileSystem(endpoint_override=ep.netloc, scheme=ep.scheme, region=region, **_keys())
        return Store(fs, scheme)
    fs, _ = pafs.FileSystem.from_uri(url)
    return Store(fs, scheme)


def _keys() -> dict[str, str]:
    """The driver's S3 keys from its environment, when it has them: they travel with the pickled
    filesystem, so workers started without them (a cluster's nodes) can read and write too."""
    env = {"access_key": "AWS_ACCESS_KEY_ID", "secret_key": "AWS_SECRET_ACCESS_KEY",
           "session_token": "AWS_SESSION_TOKEN"}  # fmt: skip
    keys = {k: os.environ[v] for k, v in env.items() if os.environ.get(v)}
    return keys if "access_key" in keys and "secret_key" in keys else {}


def list_images(store: Store, path: str) -> list[str] | None:
    """Image files directly under the folder (prefix) ``path``, sorted; ``[path]`` for one object;
    ``None`` when nothing is there."""
    import pyarrow.fs as pafs

    info = store.fs.get_file_info(path.rstrip("/"))
    if info.type == pafs.FileType.File:
        return [info.path]
    if info.type != pafs.FileType.Directory:
        return None
    found = store.fs.get_file_info(pafs.FileSelector(path.rstrip("/"), recursive=False))
    return sorted(i.path for i in found if i.type == pafs.FileType.File and Path(i.path).suffix.lower()
                  in IMAGE_SUFFIXES)  # fmt: skip

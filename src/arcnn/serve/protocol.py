"""What a request may say and what a response says back, without the web framework: query
parameters to :class:`RestoreOptions`, the multipart body, errors to status codes, result headers."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from arcnn.files import FORMATS
from arcnn.options import RestoreOptions
from arcnn.pipeline import Restored, RestoreError
from arcnn.serve.settings import ServeSettings
from arcnn.zoo import REGISTRY

__all__ = ["ApiError", "MEDIA_TYPES", "PARAMETERS", "parse_query", "multipart_file", "error_for",
           "result_headers", "header_value"]  # fmt: skip

MEDIA_TYPES = {"png": "image/png", "webp": "image/webp", "tiff": "image/tiff", "jpeg": "image/jpeg"}
# Named like arcnn restore's options.
PARAMETERS = ("model", "quality", "chroma", "fast", "format", "png_level")


@dataclass
class ApiError(Exception):
    """A refusal: the status code, one line for ``{"error": ...}``, and extra response headers."""

    status: int
    message: str
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


def parse_query(pairs: Iterable[tuple[str, str]], settings: ServeSettings) -> tuple[RestoreOptions, str]:
    """The options and output format a request's query asks for (422 for anything else).

    Only shipped model names are accepted: nothing a request says names a file on the server.
    """
    given: dict[str, str] = {}
    for key, value in pairs:
        if key not in PARAMETERS:
            raise ApiError(422, f"unknown parameter {key!r}: use {', '.join(PARAMETERS)}")
        if key in given:
            raise ApiError(422, f"parameter {key!r} is given twice")
        given[key] = value
    fmt = given.get("format", "png")
    if fmt not in FORMATS:
        raise ApiError(422, f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    model = given.get("model") or None
    if model is not None and model not in REGISTRY:
        raise ApiError(422, f"model must be a shipped model's name ({', '.join(REGISTRY)}), not {model!r}")
    quality: int | str = given.get("quality", "auto")
    if isinstance(quality, str) and re.fullmatch(r"[0-9]{1,3}", quality):
        quality = int(quality)
    level: Any = given.get("png_level")  # None: the tier's; not digits: RestoreOptions refuses it
    if isinstance(level, str) and re.fullmatch(r"[0-9]{1,3}", level):
        level = int(level)
    fast = {"true": True, "false": False}.get(given.get("fast", "false"))
    if fast is None:
        raise ApiError(422, f"fast must be true or false, not {given['fast']!r}")
    try:
        options = RestoreOptions(model=model, quality=quality, chroma=given.get("chroma", "auto"), fast=fast,
                                 max_pixels=settings.max_pixels, png_level=level)  # fmt: skip
    except ValueError as e:
        raise ApiError(422, str(e)) from e
    return options, fmt


def multipart_file(body: bytes, content_type: str, name: str = "file") -> bytes:
    """The content of the form field ``name`` of a ``multipart/form-data`` body, read in memory
    (a general form parser would spool large parts to a temporary file)."""
    match = re.search(r'boundary=(?:"([^"]+)"|([^;\s]+))', content_type)
    if match is None:
        raise ApiError(422, "multipart body without a boundary")
    delimiter = b"--" + (match.group(1) or match.group(2)).encode("latin-1")
    for part in body.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break  # the closing delimiter
        head, sep, content = part.partition(b"\r\n\r\n")
        if not sep:
            continue
        disposition = re.search(rb'(?im)^content-disposition:.*?[; ]name="([^"]*)"', head)
        if disposition is not None and disposition.group(1) == name.encode():
            return content[:-2] if content.endswith(b"\r\n") else content
    raise ApiError(422, f"the multipart body has no field {name!r}: send the image as 'file'")


def error_for(e: ValueError) -> ApiError:
    """The status code and one line for a refusal raised while restoring or encoding.

    The pixel limit is 413; an unreadable or undecodable body is 415; other refusals (an option
    the image does not allow, a format that cannot hold it) are 422.
    """
    line = re.sub(r" ?<[^<>]* at 0x[0-9a-f]+>", "", " ".join(str(e).split()))  # no object reprs
    if isinstance(e, RestoreError) and e.stage in ("read", "decode"):
        if "pixel limit" in line:
            return ApiError(413, line)
        return ApiError(415, f"not an image or unsupported: {line}")
    return ApiError(422, line.replace("--format ", "format="))


def header_value(text: object) -> str:
    """``text`` as one line of printable ASCII, fit for a response header."""
    return re.sub(r"[^\x20-\x7e]+", " ", str(text)).strip()


def result_headers(result: Restored) -> dict[str, str]:
    """``X-Arcnn-Model``, ``X-Arcnn-Chroma-Model`` ("none": chroma as decoded), ``X-Arcnn-Quality``
    (the estimated JPEG quality, "unknown" when there is none) with its description in
    ``X-Arcnn-Quality-Estimate``, and ``X-Arcnn-Warning`` when the decoder found damage."""
    q = result.quality
    headers = {
        "X-Arcnn-Model": header_value(result.model or "none"),
        "X-Arcnn-Chroma-Model": header_value(result.chroma_model or "none"),
        "X-Arcnn-Quality": "unknown" if q is None else str(q.quality),
        "X-Arcnn-Quality-Estimate": "unknown" if q is None else header_value(q),
    }
    if result.warnings:
        headers["X-Arcnn-Warning"] = header_value("; ".join(result.warnings))[:500]
    return headers

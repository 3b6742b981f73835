"""Bytes to text lines: refuse empty and binary inputs, decode chunk by chunk, split lines.

The first stage of every input reader (``checks.sources``): a 200 MB list is read a chunk at a
time, undecodable bytes become U+FFFD with one warning, and an absurdly long line is refused.
"""

from __future__ import annotations

import codecs
import warnings
from collections.abc import Iterable, Iterator
from typing import IO

from checks.errors import InputError, InputWarning

CHUNK_BYTES = 256 * 1024
MAX_LINE = 8 * 1024 * 1024  # characters; no title or abstract is this long

_BINARY_MAGIC = {
    b"%PDF": "a PDF document",
    b"\x1f\x8b": "gzip-compressed (decompress it first)",
    b"PK\x03\x04": "a zip archive",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"\x7fELF": "an executable",
}


def check_head(head: bytes, source: str, *, at_eof: bool) -> str:
    """The encoding to read with, or an ``InputError`` for empty and binary inputs."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if not head.strip() and at_eof:
        raise InputError(source, "empty file" if not head else "file contains only whitespace")
    for magic, what in _BINARY_MAGIC.items():
        if head.startswith(magic):
            raise InputError(source, f"binary file ({what}), not a text list of papers")
    control = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13, 27)) if head else 0
    if b"\x00" in head or control > len(head) // 10:
        raise InputError(source, "binary file (contains NUL or control bytes), not a text list of papers")
    return "utf-8-sig"


def decode_chunks(stream: IO[bytes], head: bytes, source: str, encoding: str) -> Iterator[str]:
    """Decoded text of ``head`` and then the rest of ``stream``, chunk by chunk.

    Bytes that are not valid in ``encoding`` become U+FFFD, and a warning says so once.
    """
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    offset = 0
    data = head
    while True:
        final = not data
        try:
            text = decoder.decode(data, final=final)
        except UnicodeDecodeError as exc:
            pending, _ = decoder.getstate()
            warnings.warn(
                f"{source}: not valid {encoding.removesuffix('-sig').upper()} (first bad byte near offset "
                f"{offset - len(pending) + exc.start}); undecodable bytes were replaced with U+FFFD",
                InputWarning,
                stacklevel=2,
            )
            decoder = codecs.getincrementaldecoder(encoding)("replace")
            text = decoder.decode(pending + data, final=final)
        if text:
            yield text
        if final:
            return
        offset += len(data)
        data = stream.read(CHUNK_BYTES)


def iter_lines(chunks: Iterable[str], source: str) -> Iterator[str]:
    """Lines (without line ends) of a chunked text, refusing absurdly long ones."""
    tail = ""
    number = 0
    for chunk in chunks:
        parts = (tail + chunk).split("\n")
        tail = parts.pop()
        for line in parts:
            number += 1
            yield line.removesuffix("\r")
        if len(tail) > MAX_LINE:
            raise InputError(source, f"line {number + 1} is longer than {MAX_LINE // (1024 * 1024)} MiB; "
                                     "not a text list of papers")
    if tail:
        yield tail.removesuffix("\r")

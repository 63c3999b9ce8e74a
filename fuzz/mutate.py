"""The built-in engine, for machines without atheris: mutational fuzzing guided by line coverage.

Coverage is ``sys.settrace`` limited to the files under the instrumented packages' folders (the
target's Python code: Pillow's plugins, arcnn); an input that reaches a (code, line) pair no
earlier input reached joins the corpus and is kept in the work folder. Mutations are the usual
byte-level ones (flips, interesting values, block insert / delete / duplicate, dictionary
tokens, splices of two corpus inputs). Slower than libFuzzer, but it needs nothing installed.
"""

from __future__ import annotations

import hashlib
import random
import struct
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import CodeType, FrameType

__all__ = ["BuiltinFuzzer", "mutate"]

_INTERESTING_8 = [0, 1, 0x7F, 0x80, 0xFF, 0x10, 0x20, 0x40]
_INTERESTING_16 = [0, 1, 0x7FFF, 0x8000, 0xFFFF, 0x100, 0x1000, 16, 64]
_INTERESTING_32 = [0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x10000, 1 << 24]


def mutate(data: bytes, rng: random.Random, tokens: list[bytes], other: bytes, max_len: int) -> bytes:
    """One to four stacked random byte-level mutations of ``data``."""
    b = bytearray(data)
    for _ in range(rng.choice((1, 1, 2, 3, 4))):
        op = rng.randrange(11)
        pos = rng.randrange(len(b) + 1)
        if op == 0 and b:  # flip a bit
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
        elif op == 1 and b:  # a random byte
            b[rng.randrange(len(b))] = rng.randrange(256)
        elif op == 2 and b:  # an interesting 8/16/32-bit value, either byte order
            width = rng.choice((1, 2, 4))
            endian = rng.choice("<>")
            fmt = {1: "B", 2: "H", 4: "I"}[width]
            value = rng.choice({1: _INTERESTING_8, 2: _INTERESTING_16, 4: _INTERESTING_32}[width])
            i = rng.randrange(max(1, len(b) - width + 1))
            b[i : i + width] = struct.pack(endian + fmt, value)
        elif op == 3 and b:  # add or subtract a little
            i = rng.randrange(len(b))
            b[i] = (b[i] + rng.randint(-16, 16)) % 256
        elif op == 4 and b:  # delete a block
            n = rng.randint(1, min(len(b), 64))
            i = rng.randrange(len(b) - n + 1)
            del b[i : i + n]
        elif op == 5:  # insert random bytes
            b[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        elif op == 6 and b:  # duplicate a block
            n = rng.randint(1, min(len(b), 128))
            i = rng.randrange(len(b) - n + 1)
            b[pos:pos] = b[i : i + n]
        elif op == 7 and tokens:  # insert a dictionary token
            b[pos:pos] = rng.choice(tokens)
        elif op == 8 and tokens and b:  # overwrite with a dictionary token
            t = rng.choice(tokens)
            i = rng.randrange(len(b))
            b[i : i + len(t)] = t
        elif op == 9 and other:  # splice: our head, the other's tail
            j = rng.randrange(len(other) + 1)
            b = b[:pos] + bytearray(other[j:])
        elif op == 10 and b:  # truncate
            del b[rng.randrange(len(b)) :]
    return bytes(b[:max_len])


class BuiltinFuzzer:
    """Seeds first, then mutations of corpus inputs until the deadline."""

    def __init__(
        self,
        run_one: Callable[[bytes], None],
        seeds: list[tuple[str, bytes]],
        tokens: list[bytes],
        roots: list[str],
        work: Path,
        rng: random.Random,
    ) -> None:
        self.run_one, self.tokens, self.work, self.rng = run_one, tokens, work, rng
        self.roots = tuple(roots)
        self.seeds = [d for _, d in seeds] + [
            p.read_bytes() for p in sorted(work.iterdir()) if p.is_file() and not p.name.startswith(".")
        ]
        self.corpus: list[bytes] = []
        self.seen: set[tuple[CodeType, int]] = set()
        self.hits: set[tuple[CodeType, int]] = set()
        self._watch: dict[CodeType, bool] = {}
        self.max_len = max([len(s) for s in self.seeds] + [4096]) * 2

    def _global(self, frame: FrameType, event: str, arg: object):
        code = frame.f_code
        watch = self._watch.get(code)
        if watch is None:
            watch = self._watch[code] = code.co_filename.startswith(self.roots)
        return self._local if watch else None

    def _local(self, frame: FrameType, event: str, arg: object):
        if event == "line":
            self.hits.add((frame.f_code, frame.f_lineno))
        return self._local

    def execute(self, data: bytes) -> bool:
        """Run one input; True when it reached new lines."""
        self.hits = set()
        sys.settrace(self._global)
        try:
            self.run_one(data)
        finally:
            sys.settrace(None)
        new = self.hits - self.seen
        if not new:
            return False
        self.seen |= new
        return True

    def keep(self, data: bytes) -> None:
        self.corpus.append(data)
        path = self.work / hashlib.sha1(data).hexdigest()
        if not path.exists():
            path.write_bytes(data)

    def run(self, deadline: float) -> None:
        for s in self.seeds:
            if self.execute(s) or not self.corpus:
                self.corpus.append(s)  # seeds stay in the corpus; they are not copied to the work folder
            if time.monotonic() > deadline:
                return
        while time.monotonic() < deadline:
            # Newer inputs (found later, deeper) a little more often than old ones.
            i = min(len(self.corpus) - 1, int(len(self.corpus) * self.rng.random() ** 0.7))
            parent, other = self.corpus[i], self.rng.choice(self.corpus)
            child = mutate(parent, self.rng, self.tokens, other, self.max_len)
            if self.execute(child):
                self.keep(child)

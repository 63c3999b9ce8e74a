"""Load test of ``arcnn serve``: latency, status codes and the server's memory under a bounded load.

    python -m benchmarks.serve_load [--requests 200] [--concurrency 8] [--oversized 50] [--write]

Starts ``arcnn serve`` in its own process on a free loopback port, then (1) sends ``--requests``
restorations of a small colour JPEG, ``--concurrency`` at a time, each on a new connection;
(2) a burst of ``--oversized`` bodies over the server's body limit, most with a Content-Length
(refused before they are read), every fifth chunked (refused while read). Reports p50/p99
latency, the status codes, and the server process's resident memory after warm-up, at the end and
at its peak (``VmHWM``). The run passes when nothing answers 5xx but the documented 503, every
restoration succeeds, every oversized body gets 413, and the peak stays within ``--rss-bound-mb``
of the warm size. ``--write`` puts the table into its block (docs/serve.md).
"""

from __future__ import annotations

import argparse
import http.client
import io
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from benchmarks._common import ROOT, publish

BODY_LIMIT_MB = 1


def setup_args() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=200, help="restorations to send")
    p.add_argument("--concurrency", type=int, default=8, help="requests in flight at once")
    p.add_argument("--oversized", type=int, default=50, help="bodies over the limit to send after")
    p.add_argument("--rss-bound-mb", type=float, default=300.0,
                   help="most the server's peak memory may exceed its size after warm-up")  # fmt: skip
    p.add_argument("--write", action="store_true", help="publish the table into docs/serve.md")
    return p


def small_jpeg(h: int = 48, w: int = 64, quality: int = 10) -> bytes:
    """A smooth colour test image with edges, as a 4:2:0 JPEG (luminance and chroma models run)."""
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    edges = 40 * ((xx + yy) % 0.5 > 0.25)
    planes = [120 + 60 * np.sin(6 * xx + c) * np.cos(5 * yy) + edges for c in range(3)]
    buf = io.BytesIO()
    Image.fromarray(np.clip(np.stack(planes, -1), 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, *extra: str) -> subprocess.Popen:
    """``arcnn serve`` on loopback ``port``, in its own process."""
    cmd = [sys.executable, "-m", "arcnn", "serve", "--port", str(port), "--log-level", "warning",
           "--max-body-mb", str(BODY_LIMIT_MB), *extra]  # fmt: skip
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_ready(port: int, server: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"arcnn serve exited {server.returncode}: {server.stderr.read().decode()}")
        try:
            if request(port, "GET", "/healthz")[0] == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"arcnn serve did not answer on port {port} within {timeout:.0f} s")


def request(port: int, method: str, path: str, body: bytes | Iterator[bytes] | None = None,
            headers: dict[str, str] | None = None,
            reply: dict[str, str] | None = None) -> tuple[int, float]:  # fmt: skip
    """One request on a new connection: (status, seconds); status 0: the connection was reset before
    an answer could be read. ``reply``, if given, receives the answer's headers (names in lower case)."""
    t = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        chunked = body is not None and not isinstance(body, bytes)
        conn.request(method, path, body=body, headers=headers or {}, encode_chunked=chunked)
        response = conn.getresponse()
        response.read()
        if reply is not None:
            reply.update((k.lower(), v) for k, v in response.getheaders())
        return response.status, time.perf_counter() - t
    except (ConnectionResetError, BrokenPipeError):
        return 0, time.perf_counter() - t
    finally:
        conn.close()


def chunks(size: int, chunk: int = 64 << 10) -> Iterator[bytes]:
    for _ in range(0, size, chunk):
        yield b"\0" * chunk


def rss_mb(pid: int, key: str = "VmRSS") -> float:
    """The process's resident memory (``VmRSS``) or its peak (``VmHWM``), in MB (Linux)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {key} for process {pid}")


@dataclass
class Load:
    """What a run measured."""

    latencies: list[float] = field(default_factory=list)
    restore: Counter = field(default_factory=Counter)
    oversized: Counter = field(default_factory=Counter)
    warm_mb: float = 0.0
    end_mb: float = 0.0
    peak_mb: float = 0.0
    seconds: float = 0.0
    models: str = ""  # the networks the server ran, from its X-Arcnn-Model headers

    def bad(self, requests: int, oversized: int, rss_bound_mb: float) -> list[str]:
        """What went wrong, one line each; empty when the run passes."""
        problems = []
        statuses = self.restore + self.oversized
        server_errors = {s: n for s, n in statuses.items() if s >= 500 and s != 503}
        if server_errors:
            problems.append(f"5xx other than 503: {server_errors}")
        if self.restore[200] != requests:
            problems.append(f"{requests - self.restore[200]} of {requests} failed: {dict(self.restore)}")
        if self.oversized[413] != oversized:
            problems.append(f"oversized bodies not all refused with 413: {dict(self.oversized)}")
        if self.peak_mb - self.warm_mb > rss_bound_mb:
            growth = self.peak_mb - self.warm_mb
            problems.append(f"peak RSS grew {growth:.0f} MB past its warm size, over {rss_bound_mb:.0f} MB")
        return problems


def run_load(requests: int = 200, concurrency: int = 8, oversized: int = 50) -> Load:
    """Start a server, send the load, stop the server; what was measured."""
    port, image, load = free_port(), small_jpeg(), Load()
    server = start_server(port)
    try:
        wait_ready(port, server)
        reply: dict[str, str] = {}
        for _ in range(2):  # warm-up: models loaded, thread pools started
            request(port, "POST", "/restore", image, {"Content-Type": "image/jpeg"}, reply)
        chroma = reply.get("x-arcnn-chroma-model", "none")
        chroma = "chroma as decoded" if chroma == "none" else chroma
        load.models = f"{reply.get('x-arcnn-model')} and {chroma}"
        load.warm_mb = rss_mb(server.pid)
        t = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            restore = lambda _: request(port, "POST", "/restore", image, {"Content-Type": "image/jpeg"})  # noqa: E731
            for status, seconds in pool.map(restore, range(requests)):
                load.restore[status] += 1
                if status == 200:
                    load.latencies.append(seconds)
            load.seconds = time.perf_counter() - t
            size = (BODY_LIMIT_MB << 20) + (1 << 20)
            big = b"\0" * size
            send_big = lambda i: request(port, "POST", "/restore", chunks(size) if i % 5 == 4 else big)  # noqa: E731
            for status, _ in pool.map(send_big, range(oversized)):
                load.oversized[status] += 1
        load.end_mb, load.peak_mb = rss_mb(server.pid), rss_mb(server.pid, "VmHWM")
    finally:
        server.terminate()
        server.wait(30)
    return load


def report(load: Load, requests: int, concurrency: int, oversized: int) -> list[str]:
    lat = np.array(load.latencies) * 1000 if load.latencies else np.zeros(1)
    counts = lambda c: ", ".join(f"{s or 'reset'}: {n}" for s, n in sorted(c.items()))  # noqa: E731
    rate = len(load.latencies) / load.seconds if load.seconds else 0.0
    return [
        f"Measured by `python -m benchmarks.serve_load` on a {os.cpu_count()}-core machine: "
        f"{requests} restorations of a 64x48 colour JPEG (q10: {load.models}), "
        f"{concurrency} at a time (a latency includes the wait in the queue), then {oversized} bodies "
        f"over a {BODY_LIMIT_MB} MB limit.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| restorations: status codes | {counts(load.restore)} |",
        f"| latency p50 / p99 | {np.percentile(lat, 50):.0f} ms / {np.percentile(lat, 99):.0f} ms |",
        f"| throughput | {rate:.1f} restorations/s |",
        f"| oversized bodies: status codes | {counts(load.oversized)} |",
        f"| server RSS after warm-up / at the end / peak | {load.warm_mb:.0f} / {load.end_mb:.0f} / "
        f"{load.peak_mb:.0f} MB |",
    ]


def main(argv: list[str] | None = None) -> int:
    args = setup_args().parse_args(argv)
    load = run_load(args.requests, args.concurrency, args.oversized)
    publish("serve-load", report(load, args.requests, args.concurrency, args.oversized), args.write)
    problems = load.bad(args.requests, args.oversized, args.rss_bound_mb)
    for line in problems:
        print(f"FAIL: {line}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

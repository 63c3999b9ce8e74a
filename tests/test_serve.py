"""``arcnn serve``: the API restores exactly as ``arcnn restore`` does, and every limit answers with
its documented status and one line of JSON."""

from __future__ import annotations

import io
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest
from PIL import Image
from starlette.testclient import TestClient

import arcnn.serve.queue as serve_queue
from arcnn import policy
from arcnn.cli import main
from arcnn.cli.serve import make_app
from arcnn.serve import ServeSettings
from arcnn.serve.protocol import multipart_file
from arcnn.serve.queue import Output
from arcnn.zoo import REGISTRY

from .conftest import ZLIB_FLEVEL, png_zlib_level, smooth_image


def jpeg_bytes(h: int = 48, w: int = 64, quality: int = 10, colour: bool = True) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(smooth_image(h, w, seed=3, colour=colour)).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(make_app(ServeSettings())) as c:
        yield c


def one_line_error(response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    message = response.json()["error"]
    assert message and "\n" not in message
    return message


def test_restore_gives_the_pixels_of_arcnn_restore(client, tmp_path):
    data = jpeg_bytes()
    (tmp_path / "in.jpg").write_bytes(data)
    assert main(["restore", str(tmp_path / "in.jpg"), "-o", str(tmp_path / "cli.png")]) == 0
    r = client.post("/restore", content=data, headers={"Content-Type": "image/jpeg"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png"
    assert r.headers["x-arcnn-model"] == policy.LARGE_MODEL  # a colour JPEG
    assert r.headers["x-arcnn-chroma-model"] == policy.CHROMA_MODEL
    assert r.headers["x-arcnn-quality"] == "10" and r.headers["x-arcnn-quality-estimate"] == "q10"
    expected = np.asarray(Image.open(tmp_path / "cli.png"))
    assert expected.shape == (48, 64, 3)
    np.testing.assert_array_equal(pixels(r.content), expected)


def test_multipart_field_file_and_options_are_the_cli_s(client, tmp_path):
    data = jpeg_bytes()
    src, out = tmp_path / "in.jpg", tmp_path / "cli.webp"
    src.write_bytes(data)
    assert main(["restore", str(src), "-o", str(out), "--quality", "20", "--chroma", "off"]) == 0
    files = {"file": ("in.jpg", data, "image/jpeg")}
    r = client.post("/restore?quality=20&chroma=off&format=webp", files=files, data={"note": "x"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/webp"
    assert r.headers["x-arcnn-model"] == "arcnn-q20" and r.headers["x-arcnn-chroma-model"] == "none"
    assert r.headers["x-arcnn-quality"] == "10"  # estimated from the file, whatever model was asked for
    np.testing.assert_array_equal(pixels(r.content), np.asarray(Image.open(out)))


def test_a_model_by_name_and_other_formats(client):
    r = client.post("/restore?model=arcnn-q40&format=jpeg", content=jpeg_bytes(colour=False))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/jpeg" and r.content[:2] == b"\xff\xd8"
    assert r.headers["x-arcnn-model"] == "arcnn-q40" and r.headers["x-arcnn-chroma-model"] == "none"


def test_healthz_models_and_the_page(client):
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["queue_limit"] == 8
    models = client.get("/models").json()
    assert [m["name"] for m in models] == list(REGISTRY)
    assert {"use", "quality", "macs_per_pixel", "live1_psnr"} <= set(models[0])  # arcnn models' rows
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'src="/static/page.js"' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert client.get("/static/page.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/static/page.css").status_code == 200
    assert client.get("/static/index.html").status_code == 404
    assert client.get("/static/..%2Fapp.py").status_code == 404


def test_413_for_a_body_over_the_limit_by_content_length_and_while_streamed():
    with TestClient(make_app(ServeSettings(max_body_bytes=1000))) as c:
        assert "limit of 1000 bytes" in one_line_error(c.post("/restore", content=b"\0" * 1001), 413)
        streamed = (b"\0" * 400 for _ in range(3))  # chunked: no Content-Length to refuse it by
        one_line_error(c.post("/restore", content=streamed), 413)
        assert c.post("/restore", content=b"\0" * 1000).status_code == 415  # at the limit: read, not an image


def test_413_for_too_many_pixels():
    with TestClient(make_app(ServeSettings(max_pixels=1000))) as c:
        assert "pixel limit" in one_line_error(c.post("/restore", content=jpeg_bytes()), 413)


def test_415_for_what_is_not_an_image(client):
    message = one_line_error(client.post("/restore", content=b"GIF89a but not really" * 10), 415)
    assert message.startswith("not an image or unsupported") and "0x" not in message
    one_line_error(client.post("/restore", content=jpeg_bytes()[:300]), 415)  # truncated in its header


@pytest.mark.parametrize("query", [
    "quality=0", "quality=high", "chroma=maybe", "format=gif", "method=sadct", "quality=10&quality=20",
    "model=src/arcnn/weights/arcnn-q10.safetensors", "model=/etc/passwd", "model=../../weights/arcnn-q10",
    "model=arcnn-chroma", "png_level=10", "png_level=-1", "png_level=fast", "png_level=6.0",
    "fast=1", "fast=yes", "fast=true&model=arcnn-q10",
])  # fmt: skip
def test_422_for_a_bad_option_or_a_model_that_is_not_a_shipped_name(client, query):
    one_line_error(client.post(f"/restore?{query}", content=jpeg_bytes()), 422)


def test_png_level_as_arcnn_restore_writes_it(client):
    data = jpeg_bytes()
    default = client.post("/restore", content=data)
    fast = client.post("/restore?png_level=1", content=data)
    assert default.status_code == 200 and fast.status_code == 200, fast.text
    assert png_zlib_level(default.content) == ZLIB_FLEVEL[6]
    assert png_zlib_level(fast.content) == ZLIB_FLEVEL[1]
    tier = client.post("/restore?fast=true", content=data)
    assert png_zlib_level(tier.content) == ZLIB_FLEVEL[3]  # the fast tier's level
    np.testing.assert_array_equal(pixels(fast.content), pixels(default.content))


def test_the_fast_tier_as_arcnn_restore_picks_it(client):
    r = client.post("/restore?fast=true&chroma=off", content=jpeg_bytes())
    assert r.status_code == 200 and r.headers["x-arcnn-model"] == "fast-arcnn-relu-q10", r.text
    r = client.post("/restore?fast=false", content=jpeg_bytes())
    assert r.headers["x-arcnn-model"] == policy.LARGE_MODEL  # a colour JPEG


def test_422_for_a_format_that_cannot_hold_the_image_and_for_no_image(client):
    frames = [Image.fromarray(smooth_image(16, 16, seed=s, colour=True)) for s in range(2)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
    assert "format=tiff" in one_line_error(client.post("/restore", content=buf.getvalue()), 422)
    one_line_error(client.post("/restore"), 422)
    one_line_error(client.post("/restore", files={"other": ("a.jpg", b"x")}), 422)


class Blocked:
    """A restoration that waits until released: the queue's state is then known."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def __call__(self, *args) -> Output:
        assert self.release.wait(30)
        return Output(b"done", {})


def _wait_for(condition, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_503_with_retry_after_when_the_queue_is_full(monkeypatch):
    blocked = Blocked()
    monkeypatch.setattr(serve_queue, "restore_and_encode", blocked)
    app = make_app(ServeSettings(queue=1, workers=1))
    with TestClient(app) as c:
        first: list = []
        t = threading.Thread(target=lambda: first.append(c.post("/restore", content=b"a")))
        t.start()
        _wait_for(lambda: app.state.queue.held == 1)
        assert c.get("/healthz").json()["queue"] == 1  # the event loop answers meanwhile
        busy = c.post("/restore", content=b"b")
        one_line_error(busy, 503)
        assert int(busy.headers["retry-after"]) >= 1
        blocked.release.set()
        t.join(30)
        assert first[0].status_code == 200 and first[0].content == b"done"
        assert c.post("/restore", content=b"c").status_code == 200  # its place is free again


def test_504_past_the_timeout_and_the_place_is_held_until_the_restoration_ends(monkeypatch):
    blocked = Blocked()
    monkeypatch.setattr(serve_queue, "restore_and_encode", blocked)
    app = make_app(ServeSettings(queue=2, timeout=0.05))
    with TestClient(app) as c:
        assert "timeout" in one_line_error(c.post("/restore", content=b"a"), 504)
        assert app.state.queue.held == 1  # still running: a thread cannot be stopped
        blocked.release.set()
        _wait_for(lambda: app.state.queue.held == 0)


def test_multipart_parts_are_read_exactly():
    content = b"\r\n--not-the-boundary\r\n\0\xff" * 3 + b"\r\n"
    body = (b"preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n"
            b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.jpg\"\r\n"
            b"Content-Type: image/jpeg\r\n\r\n" + content + b"\r\n--XyZ--\r\n")  # fmt: skip
    assert multipart_file(body, 'multipart/form-data; boundary="XyZ"') == content
    assert multipart_file(body, "multipart/form-data; boundary=XyZ") == content


def test_the_command_without_the_extra_says_how_to_install_it():
    """``arcnn --help`` needs neither Starlette nor uvicorn; ``arcnn serve`` says in one line what to
    install."""
    code = ("import sys; sys.modules['starlette'] = sys.modules['uvicorn'] = None\n"
            "from arcnn.cli import main\n"
            "assert main(['--help']) == 0\n"
            "sys.exit(main(['serve']))")  # fmt: skip
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 2, run.stderr
    assert run.stderr.count("\n") == 1 and "pip install 'arcnn[serve]'" in run.stderr
    assert "serve" in run.stdout


def test_the_command_refuses_bad_limits_in_one_line(capsys):
    assert main(["serve", "--queue", "0"]) == 2
    assert main(["serve", "--max-body-mb", "0"]) == 2
    assert capsys.readouterr().err.count("arcnn: error:") == 2


def test_a_quick_load_on_a_real_server():
    """``arcnn serve`` in its own process: 40 restorations, 8 at a time, and 10 oversized bodies."""
    from benchmarks.serve_load import run_load

    t = time.monotonic()
    load = run_load(requests=40, concurrency=8, oversized=10)
    assert load.bad(40, 10, rss_bound_mb=300) == []
    assert time.monotonic() - t < 60

"""The page of ``arcnn serve`` in a real headless Chromium (Playwright, on Debian's ``/usr/bin/chromium``):
upload a JPEG, compare, blend, download; the download at full strength is ``arcnn restore``'s image.

``python -m tests.test_page`` takes the screenshots of docs/serve.md (docs/images/serve-*.png).
"""

from __future__ import annotations

import io
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from arcnn import policy
from arcnn.cli import main
from arcnn.cli.serve import make_app

from .conftest import smooth_image

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip
DESKTOP = {"width": 1280, "height": 800}


@contextmanager
def running_server() -> Iterator[str]:
    """``arcnn serve``'s application on a free loopback port, in a thread; yields its URL."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(make_app(), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium; fails (CI installs it: ``apt-get install chromium``) when there is none."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (this test needs it)", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser: Any, url: str, image: Path) -> Any:
    """A desktop-sized page at ``url`` with ``image`` chosen in its file input and restored."""
    page = browser.new_page(viewport=DESKTOP, accept_downloads=True)
    page.goto(url)
    page.set_input_files("#file", str(image))
    page.wait_for_selector("body[data-state=done]", timeout=120_000)
    return page


def drag_split(page: Any, fraction: float) -> None:
    """Drag across the image from its middle to ``fraction`` of its width, as a person would."""
    box = page.locator("#stage").bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] / 2, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * fraction, y, steps=5)
    page.mouse.up()


def set_strength(page: Any, percent: int) -> None:
    """Move the strength control with the keyboard: Home (0%), then one step per percent."""
    page.focus("#strength")
    page.keyboard.press("Home")
    for _ in range(percent):
        page.keyboard.press("ArrowRight")
    assert page.input_value("#strength") == str(percent)


def download(page: Any, folder: Path) -> tuple[str, np.ndarray]:
    with page.expect_download() as info:
        page.click("#download")
    path = folder / info.value.suggested_filename
    info.value.save_as(path)
    with Image.open(path) as im:
        return path.name, np.asarray(im.convert("RGB"))


def test_the_page_restores_compares_blends_and_downloads(tmp_path):
    jpeg = tmp_path / "photo.jpg"
    Image.fromarray(smooth_image(96, 128, seed=5, colour=True)).save(jpeg, quality=10)
    assert main(["restore", str(jpeg), "-o", str(tmp_path / "cli.png")]) == 0
    restored = np.asarray(Image.open(tmp_path / "cli.png"))
    with running_server() as url, chromium() as browser:
        page = open_page(browser, url, jpeg)
        assert page.inner_text("#quality") == "q10"
        assert page.inner_text("#model") == policy.LARGE_MODEL  # a colour JPEG
        assert page.inner_text("#chroma") == policy.CHROMA_MODEL

        assert page.locator("#stage").bounding_box()["width"] > 128 * 2  # fit to the window: enlarged
        drag_split(page, 0.25)
        assert abs(float(page.input_value("#split")) - 25) < 3
        assert "inset(0px 0px 0px 2" in page.eval_on_selector("#after", "e => e.style.clipPath")
        page.check("#actual")
        assert page.locator("#stage").bounding_box()["width"] == 128  # 100%: one pixel per pixel
        page.uncheck("#actual")

        set_strength(page, 50)
        assert page.inner_text("#strength-value") == "50%"
        name, half = download(page, tmp_path)
        decoded = np.asarray(Image.open(jpeg).convert("RGB")).astype(float)
        blend = decoded + (restored - decoded) * 0.5
        assert name == "photo-restored-50.png" and half.shape == restored.shape
        assert np.abs(half - blend).mean() < 1.0  # the browser's JPEG decoder is not Pillow's, nearly

        page.focus("#strength")
        page.keyboard.press("End")
        assert page.inner_text("#strength-value") == "100%"
        name, full = download(page, tmp_path)
        assert name == "photo-restored.png"
        np.testing.assert_array_equal(full, restored)


def shoot(page: Any, path: Path, limit: int = 200_000) -> None:
    """A screenshot of the page as a small PNG (256 colours)."""
    with Image.open(io.BytesIO(page.screenshot())) as im:
        small = im.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    small.save(path, optimize=True)
    assert path.stat().st_size < limit, f"{path} is {path.stat().st_size} bytes"
    print(f"{path.relative_to(ROOT)}: {path.stat().st_size // 1000} kB")


def screenshots(folder: Path = ROOT / "docs" / "images") -> None:
    """docs/images/serve-page.png (the shipped sample restored, fit to the window) and
    serve-compare.png (a 192x144 detail of the original astronaut saved at quality 10, enlarged
    to the window, the slider across the face)."""
    from skimage.data import astronaut

    detail = folder / "astronaut-detail-q10.jpg"
    Image.fromarray(astronaut()[40:184, 128:320]).save(detail, quality=10)
    try:
        with running_server() as url, chromium() as browser:
            page = open_page(browser, url, ROOT / "src" / "arcnn" / "samples" / "astronaut-q10.jpg")
            drag_split(page, 0.5)
            shoot(page, folder / "serve-page.png")
            page.set_input_files("#file", str(detail))
            page.wait_for_selector("#size:has-text('192 × 144')", timeout=120_000)
            drag_split(page, 0.52)
            shoot(page, folder / "serve-compare.png")
    finally:
        detail.unlink()


if __name__ == "__main__":
    screenshots()
    sys.exit(0)

"""Images keep their place while they load: width and height from the file itself; and an
image too heavy for a phone is a warning naming it and its size."""
from __future__ import annotations

import functools
import http.server
import random
import re
import struct
import subprocess
import sys
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from playwright.sync_api import Browser

from conftest import REPO, BuiltSite, copy_project
from guidesite.assets import LARGE_IMAGE, image_size


def png(width: int, height: int, noise: bool = False) -> bytes:
    """A real PNG (8-bit RGB); with noise, bytes zlib cannot shrink, so its size follows its area."""
    pixels = random.Random(1).randbytes if noise else bytes
    rows = b"".join(b"\0" + pixels(3 * width) for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


def jpeg_header(width: int, height: int) -> bytes:
    """The start of a baseline JPEG up to its frame header (SOF0), which holds the size."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, height, width, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    return b"\xff\xd8" + app0 + sof0 + b"\xff\xd9"


@pytest.mark.parametrize(("suffix", "data", "size"), [
    (".svg", b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 320 160"><rect width="32" height="32"/></svg>', (320, 160)),
    (".svg", b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" viewBox="0,0,200,240"/>', (200, 240)),
    (".svg", b'<svg xmlns="http://www.w3.org/2000/svg" width="64px" height="48" viewBox="0 0 32 24"/>', (64, 48)),
    (".svg", b'<svg xmlns="http://www.w3.org/2000/svg" width="100%" height="100%" viewBox="0 0 30 10"/>', (30, 10)),
    (".svg", b'<svg xmlns="http://www.w3.org/2000/svg"/>', None),
    (".svg", b"not xml at all", None),
    (".png", png(33, 21), (33, 21)),
    (".jpg", jpeg_header(1200, 800), (1200, 800)),
    (".png", b"\x89PNG broken", None),
])
def test_the_size_is_read_from_the_file(suffix: str, data: bytes, size: tuple[int, int] | None) -> None:
    assert image_size(suffix, data) == size


def test_every_image_in_the_guide_carries_its_files_size(guide: BuiltSite) -> None:
    checked = 0
    for rel in guide.pages():
        for img in guide.soup(rel).select("main img"):
            name = re.sub(r"\.[0-9a-f]{10}\.", ".", img["src"].split("/assets/", 1)[1])
            svg = (REPO / "assets" / name).read_text("utf-8")
            box = re.search(r'viewBox="0 0 (\d+) (\d+)"', svg).groups()
            assert (img["width"], img["height"]) == box, rel
            checked += 1
    assert checked > 0


def with_a_photo(root: Path) -> Path:
    """The guide with a photo of 600 × 400 pixels that compresses badly, shown on one page."""
    copy_project(root)
    (root / "assets/img/foto.png").write_bytes(png(600, 400, noise=True))
    page = root / "content/de/ursachen.md"
    page.write_text(page.read_text("utf-8") + "\n![Ein Foto zum Test](assets/img/foto.png)\n", "utf-8")
    return root


@pytest.fixture()
def photo_project(tmp_path: Path) -> Path:
    return with_a_photo(tmp_path / "project")


def test_a_photo_gets_its_size_and_a_heavy_one_is_a_warning(photo_project: Path) -> None:
    size = (photo_project / "assets/img/foto.png").stat().st_size
    assert size > LARGE_IMAGE
    result = subprocess.run([sys.executable, str(REPO / "build.py"), "--root", str(photo_project)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "assets/img/foto.png" in line]
    assert len(warnings) == 1 and warnings[0].startswith("warning: assets/img/foto.png:1: ")
    assert f"{size / 1_000_000:.1f} MB" in warnings[0] or f"{size / 1000:.0f} KB" in warnings[0], "its size, in words"
    img = BeautifulSoup((photo_project / "site/de/ursachen/index.html").read_text("utf-8"), "lxml").select_one("img[alt='Ein Foto zum Test']")
    assert (img["width"], img["height"]) == ("600", "400")
    strict = subprocess.run([sys.executable, str(REPO / "build.py"), "--root", str(photo_project), "check", "--strict"],
                            capture_output=True, text=True, timeout=300)
    assert strict.returncode == 1 and "assets/img/foto.png" in strict.stderr


def test_small_images_are_no_warning(guide: BuiltSite) -> None:
    result = subprocess.run([sys.executable, str(REPO / "build.py"), "check"], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert not [line for line in result.stderr.splitlines() if line.startswith("warning: assets/")]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The guide with the photo, built once for every page and width: the tests only read it."""
    photo_project = with_a_photo(tmp_path_factory.mktemp("photo") / "project")
    subprocess.run([sys.executable, str(REPO / "build.py"), "--root", str(photo_project)], check=True, capture_output=True)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(photo_project / "site")))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.browser
@pytest.mark.parametrize("width", [375, 1280])
@pytest.mark.parametrize("path", ["/de/ursachen/", "/de/vorbeugen/laufhaltung/", "/de/vorbeugen/rumpfkraft/"])
def test_the_page_does_not_move_when_its_images_arrive(browser: Browser, served: str, path: str, width: int) -> None:
    """Chromium lays the page out while every image is held back, then once they have all
    arrived: each image's box is the same both times."""
    context = browser.new_context(viewport={"width": width, "height": 900}, service_workers="block")
    page = context.new_page()
    held, released = [], []

    def hold(route) -> None:
        route.continue_() if released else held.append(route)

    page.route(re.compile(r"\.(svg|png)$"), hold)
    page.goto(served + path, wait_until="domcontentloaded")
    boxes = "els => els.map(e => { const r = e.getBoundingClientRect(); return [r.top + scrollY, r.width, r.height]; })"
    before = page.eval_on_selector_all("main img", boxes)
    assert before, "the page has images"
    assert not page.eval_on_selector_all("main img", "els => els.some(e => e.complete && e.naturalWidth > 0)"), "held back"
    released.append(True)
    for route in held:
        route.continue_()
    for img in page.locator("main img").all():
        img.evaluate("img => img.decode()")
    after = page.eval_on_selector_all("main img", boxes)
    context.close()
    assert after == before

"""The preview server under abuse on loopback: many requests at once, path traversal in raw
and encoded forms, a huge range, slow clients. It answers or refuses each, keeps serving
the others, and never serves a file from outside its output folder."""
from __future__ import annotations

import http.client
import os
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from guidesite.serve import PREVIEW_DIR, Preview
from robustness import make_small_site

SECRET = "secret-marker-3f9c1e"
PAGES = ["/de/", "/en/", "/de/seite/", "/en/page/", "/sitemap.xml", "/robots.txt", "/"]


@pytest.fixture(scope="module")
def preview(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, Path]]:
    root = make_small_site(tmp_path_factory.mktemp("serve-abuse") / "project")
    (root / "secret.txt").write_text(SECRET)
    (root / "content/secret.txt").write_text(SECRET)
    server = Preview(root, "127.0.0.1", 0)  # no rebuilds: the sources do not change
    server.start()
    out = root / PREVIEW_DIR
    os.symlink(root / "secret.txt", out / "de/leak.txt")  # a link planted inside the output
    os.symlink(root, out / "en/escape")
    parts = urlsplit(server.url)
    try:
        yield parts.hostname, parts.port, out
    finally:
        server.stop()


def _raw(host: str, port: int, request: bytes, timeout: float = 30, half_close: bool = True) -> tuple[int, bytes]:
    """Send bytes as they are (no client-side cleaning of the path) and read the whole answer.

    half_close ends the request by closing the sending side, so that a line without its end
    is complete too. tornado has no half-closed connections: it may take that for the
    client going away and not answer at all, so a complete request is sent without it.
    """
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(request)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    answer = b"".join(chunks)
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0
    return status, answer


def _get(host: str, port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(host, port, timeout=60)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def test_two_hundred_concurrent_requests_are_all_answered(preview: tuple[str, int, Path]) -> None:
    host, port, _ = preview
    expected = {path: _get(host, port, path)[2] for path in PAGES}
    barrier = threading.Barrier(200, timeout=60)

    def fetch(i: int) -> tuple[str, int, bytes]:
        path = PAGES[i % len(PAGES)]
        barrier.wait()  # all 200 connect at the same moment
        status, _, body = _get(host, port, path)
        return path, status, body

    with ThreadPoolExecutor(max_workers=200) as pool:
        results = list(pool.map(fetch, range(200)))
    assert [(path, status) for path, status, _ in results if status != 200] == []
    assert [path for path, _, body in results if body != expected[path]] == []


TRAVERSALS = [
    "/../secret.txt", "/../../../../etc/passwd", "/de/../../secret.txt", "/./../secret.txt",
    "/..%2fsecret.txt", "/%2e%2e/secret.txt", "/%2E%2E/%2E%2E/etc/passwd", "/de/%2e%2e/%2e%2e/secret.txt",
    "/%252e%252e/secret.txt", "/..%252fsecret.txt", "/%c0%ae%c0%ae/secret.txt", "/..%c0%afsecret.txt",
    "/..\\secret.txt", "/..%5csecret.txt", "/de/..%5c..%5csecret.txt", "//etc/passwd", "///etc/passwd",
    "/de/%00../../secret.txt", "/de/leak.txt", "/en/escape/secret.txt", "/en/escape/content/secret.txt",
    "http://127.0.0.1/../secret.txt", "/.cache/preview/../../secret.txt", "/%2e%2e%2f%2e%2e%2fsecret.txt",
    "/de/seite/../../../secret.txt?x=1", "/de/seite/..;/..;/secret.txt", "/de/" + "../" * 50 + "etc/passwd",
]


@pytest.mark.parametrize("target", TRAVERSALS)
def test_path_traversal_never_leaves_the_output_folder(preview: tuple[str, int, Path], target: str) -> None:
    host, port, _ = preview
    status, answer = _raw(host, port, f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode(),
                          half_close=False)
    assert status in (400, 403, 404), answer[:200]
    assert SECRET.encode() not in answer and b"root:x:0:0" not in answer


def test_a_one_gigabyte_range_is_answered_without_trouble(preview: tuple[str, int, Path]) -> None:
    host, port, out = preview
    size = (out / "robots.txt").stat().st_size
    for value in ("bytes=0-1073741823", "bytes=-1073741824", "bytes=1073741824-", "bytes=" + ",".join(["0-1073741823"] * 500)):
        status, headers, body = _get(host, port, "/robots.txt", {"Range": value})
        assert status in (200, 206, 416)
        assert len(body) <= size and int(headers["Content-Length"]) == len(body)
    assert _get(host, port, "/de/")[0] == 200


def test_slow_clients_do_not_hold_up_the_others(preview: tuple[str, int, Path]) -> None:
    host, port, _ = preview
    slow = []
    try:
        for i in range(20):  # each sends half a request and then nothing
            sock = socket.create_connection((host, port), timeout=30)
            sock.sendall(b"GET /de/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * i)
            slow.append(sock)
        lazy = socket.create_connection((host, port), timeout=30)  # asks, and never reads the answer
        lazy.sendall(b"GET /de/seite/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" * 50)
        slow.append(lazy)
        for path in PAGES:
            assert _get(host, port, path)[0] == 200
        for sock in slow[:5]:  # a byte now and then
            sock.sendall(b"a")
            time.sleep(0.05)
        assert _get(host, port, "/en/page/")[0] == 200
    finally:
        for sock in slow:
            sock.close()


def test_malformed_requests_are_refused_and_serving_goes_on(preview: tuple[str, int, Path]) -> None:
    host, port, _ = preview
    for request in (
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(64),  # a TLS hello on a plain port
        b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n",  # an endless request line
        b"GET /de/ HTTP/1.1\r\n" + b"X: y\r\n" * 200 + b"\r\n",  # too many header lines
        b"BREW /de/ HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /de/\x00 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"\r\n\r\n",
    ):
        status, answer = _raw(host, port, request)
        assert status in (0, 400, 404, 405, 414, 431, 501), answer[:200]
    assert _get(host, port, "/de/")[0] == 200

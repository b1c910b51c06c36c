"""The preview server, really running on a free loopback port over a copy of the project.

A test waits for a rebuild the way livereload.js in a tab does: it opens the websocket at
/livereload with the build version its page came from, and waits for the reload message.
"""
from __future__ import annotations

import asyncio
import http.client
import json
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar
from urllib.request import urlopen

import livereload
import pytest
from bs4 import BeautifulSoup
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect

from conftest import REPO, copy_project
from guidesite import serve
from guidesite.serve import PREVIEW_DIR, Preview

SCRIPT = re.compile(rb'<script src="/livereload\.js\?host=127\.0\.0\.1&amp;port=(\d+)&amp;snipver=(v\d+)"></script>\n</head>')
LIVERELOAD_JS = Path(livereload.__file__).parent / "vendors/livereload.js"
T = TypeVar("T")
PROTOCOL = "http://livereload.com/protocols/official-7"
RELOAD = {"command": "reload", "path": "*", "liveCSS": False, "liveImg": False}  # livereload.js reloads the page


def get(preview: Preview, path: str) -> tuple[int, bytes, http.client.HTTPMessage]:
    """GET exactly this path (urllib would normalise '../' away) -> status, body, headers."""
    host, port = preview.url.removeprefix("http://").rstrip("/").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read(), response.headers
    finally:
        connection.close()


def version_of(page: bytes) -> str:
    match = SCRIPT.search(page)
    assert match, "the page carries the reload script before </head>"
    return match.group(2).decode()


def run_apart(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a websocket client on a thread of its own: the browser tests' Playwright keeps an
    event loop running on this one, and asyncio.run() refuses to start inside it."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def open_tab(preview: Preview, version: str, origin: str | None = None, host: str | None = None) -> WebSocketClientConnection:
    """Connect as livereload.js does in a page of build `version`: hello (with the version as
    its snipver option), the server's hello, then info."""
    url = preview.url.replace("http://", "ws://") + "livereload"
    headers = {name: value for name, value in (("Origin", origin), ("Host", host)) if value}
    tab = await websocket_connect(HTTPRequest(url, headers=headers) if headers else url)
    await tab.write_message(json.dumps({"command": "hello", "protocols": [PROTOCOL], "ver": "2.2.1", "snipver": version}))
    assert json.loads(await tab.read_message())["command"] == "hello"
    await tab.write_message(json.dumps({"command": "info", "plugins": {}, "url": preview.url}))
    return tab


async def next_message(tab: WebSocketClientConnection, timeout: float = 60) -> dict | None:
    """The next message from the server, or None once the connection is closed."""
    message = await asyncio.wait_for(tab.read_message(), timeout)
    return None if message is None else json.loads(message)


def wait_for_build(preview: Preview, version: str) -> str:
    """Block until a tab showing build `version` is told to reload; return the build it then loads."""
    async def reload() -> dict | None:
        tab = await open_tab(preview, version)
        try:
            return await next_message(tab)
        finally:
            tab.close()

    assert run_apart(reload()) == RELOAD
    now = version_of(get(preview, "/de/")[1])
    assert now != version
    return now


def edit(preview: Preview, rel: str, old: str, new: str) -> None:
    path = preview.root / "content" / rel
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")


def test_pages_are_served_with_the_reload_script(unchanged: Preview) -> None:
    preview = unchanged
    status, page, headers = get(preview, "/de/ursachen/")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert BeautifulSoup(page, "lxml").h1.get_text() == BeautifulSoup(
        (preview.out_dir / "de/ursachen/index.html").read_bytes(), "lxml").h1.get_text()
    assert SCRIPT.search(page).group(1).decode() == str(preview.port)
    status, script, headers = get(preview, "/livereload.js")  # livereload's own client, from the same origin
    assert status == 200 and headers["Content-Type"] == "application/javascript" and script == LIVERELOAD_JS.read_bytes()
    # Only the reload script is added: every other file is served as the build wrote it.
    css = next((preview.out_dir / "assets").rglob("*.css"))
    status, body, _ = get(preview, "/" + css.relative_to(preview.out_dir).as_posix())
    assert status == 200 and body == css.read_bytes()


def test_the_preview_builds_outside_site_and_shows_drafts_marked(preview: Preview) -> None:
    assert (preview.root / PREVIEW_DIR / "de/index.html").is_file()
    assert not (preview.root / "site").exists()
    version = version_of(get(preview, "/de/")[1])
    (preview.root / "content/de/entwurf.md").write_text(
        "---\ntitle: Entwurf\ndescription: Noch nicht fertig.\nkey: draft-page\nslug: entwurf\ndraft: true\n---\nText.\n", "utf-8")
    wait_for_build(preview, version)
    status, page, _ = get(preview, "/de/entwurf/")
    assert status == 200 and BeautifulSoup(page, "lxml").select(".draft-banner")


def test_an_edit_changes_the_served_page_and_every_save_reloads(preview: Preview) -> None:
    version = version_of(get(preview, "/de/ursachen/")[1])
    edit(preview, "de/ursachen.md", "title: ", "title: Erste Änderung – ")
    version = wait_for_build(preview, version)
    status, page, _ = get(preview, "/de/ursachen/")
    assert status == 200 and BeautifulSoup(page, "lxml").h1.get_text().startswith("Erste Änderung – ")
    assert version_of(page) == version
    # A second save right after the first is a new build and a new reload (livereload drops
    # reloads within 3 s of the previous one).
    edit(preview, "de/ursachen.md", "Erste Änderung", "Zweite Änderung")
    wait_for_build(preview, version)
    assert BeautifulSoup(get(preview, "/de/ursachen/")[1], "lxml").h1.get_text().startswith("Zweite Änderung – ")


def test_a_page_older_than_the_build_is_told_at_once(preview: Preview) -> None:
    version = version_of(get(preview, "/de/")[1])
    edit(preview, "de/ursachen.md", "title: ", "title: Neu – ")
    newer = wait_for_build(preview, version)

    async def connect_late() -> dict | None:
        # A tab that loaded its page before the build connects only now: it is told at once.
        old = await open_tab(preview, version)
        current = await open_tab(preview, newer)
        try:
            told = await next_message(old, timeout=10)
            with pytest.raises(asyncio.TimeoutError):  # a tab with the current build is told nothing
                await next_message(current, timeout=1)
            return told
        finally:
            old.close()
            current.close()

    assert run_apart(connect_late()) == RELOAD


def test_a_build_that_ends_during_the_handshake_reaches_the_tab(unchanged: Preview) -> None:
    """The tab is told of builds from its hello on, not only once its `info` arrives."""
    async def handshake_then_build() -> dict | None:
        current = unchanged.state.version
        tab = await websocket_connect(unchanged.url.replace("http://", "ws://") + "livereload")
        try:
            await tab.write_message(json.dumps({"command": "hello", "protocols": [PROTOCOL], "snipver": current}))
            assert json.loads(await tab.read_message())["command"] == "hello"
            # A build ends before the client's info: publish the same state as a new build.
            await asyncio.get_running_loop().run_in_executor(None, unchanged._publish, unchanged.state)
            return await next_message(tab, timeout=10)
        finally:
            tab.close()

    assert run_apart(handshake_then_build()) == RELOAD


def test_the_script_connects_to_the_port_the_browser_used(unchanged: Preview) -> None:
    """Behind a port forward (ssh -L 9000:localhost:8000) the browser's port is not ours."""
    port = int(unchanged.url.rstrip("/").rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", "/de/", headers={"Host": "localhost:9000"})
    page = connection.getresponse().read()
    connection.close()
    assert b'<script src="/livereload.js?host=localhost&amp;port=9000&amp;snipver=v' in page


def test_a_tab_from_another_origin_is_refused(unchanged: Preview) -> None:
    with pytest.raises(HTTPClientError, match="403"):
        run_apart(open_tab(unchanged, "v1", origin="http://example.org"))


@pytest.mark.parametrize("host", ["rebound.example", "rebound.example:80", "10.0.0.1"])
def test_requests_for_another_host_name_are_refused(unchanged: Preview, host: str) -> None:
    """A page elsewhere that rebinds its name to 127.0.0.1 must not read the preview."""
    port = unchanged.url.rstrip("/").rsplit(":", 1)[1]
    for path in ["/de/", "/no-such-page/", "/assets/"]:  # (livereload.js is public: no need)
        connection = http.client.HTTPConnection("127.0.0.1", int(port), timeout=60)
        connection.request("GET", path, headers={"Host": host})
        response = connection.getresponse()
        assert (response.status, b"<html" in response.read()) == (403, False), path
        connection.close()
    with pytest.raises(HTTPClientError, match="403"):
        run_apart(open_tab(unchanged, "v1", origin=f"http://{host}", host=host))
    for name in ["localhost", "127.0.0.1", "LOCALHOST"]:  # every loopback name still works
        connection = http.client.HTTPConnection("127.0.0.1", int(port), timeout=60)
        connection.request("GET", "/de/", headers={"Host": f"{name}:{port}"})
        assert connection.getresponse().status == 200, name
        connection.close()


def test_a_broken_edit_shows_the_errors_and_the_next_fix_restores_the_site(preview: Preview) -> None:
    good = get(preview, "/de/ursachen/")[1]
    version = version_of(good)
    edit(preview, "de/ursachen.md", "published: ", "published: 2025-02-30\nx_published: ")
    version = wait_for_build(preview, version)

    status, page, _ = get(preview, "/de/ursachen/")
    soup = BeautifulSoup(page, "lxml")
    assert status == 500 and version_of(page) == version
    errors = [li.get_text() for li in soup.select("ol li")]
    assert any(re.match(r"content/de/ursachen\.md:\d+: published: '2025-02-30' is not a date", e) for e in errors)
    assert any(re.match(r"content/de/ursachen\.md:\d+: x_published: unknown field", e) for e in errors)
    assert soup.html["lang"] == "de" and soup.h1.get_text() == "Die Vorschau konnte nicht erstellt werden"
    english = BeautifulSoup(get(preview, "/en/causes/")[1], "lxml")
    assert english.html["lang"] == "en" and english.h1.get_text() == "The preview could not be built"
    assert get(preview, "/de/gibt-es-nicht/")[0] == 500  # a missing page cannot hide the errors

    # The last good site stays available: behind the error page's link, and every asset.
    status, last_good, _ = get(preview, soup.select_one("main p a")["href"])
    assert status == 200 and last_good.replace(version.encode(), b"") == good.replace(version_of(good).encode(), b"")
    css = next((preview.out_dir / "assets").rglob("*.css"))
    assert get(preview, "/" + css.relative_to(preview.out_dir).as_posix())[0] == 200

    edit(preview, "de/ursachen.md", "published: 2025-02-30\nx_published: ", "published: ")
    wait_for_build(preview, version)
    status, page, _ = get(preview, "/de/ursachen/")
    assert status == 200 and page.replace(version_of(page).encode(), b"") == good.replace(version_of(good).encode(), b"")


def test_a_crash_in_the_generator_is_shown_and_the_server_lives_on(preview: Preview, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(options: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(serve, "build", crash)
    preview.rebuild()
    status, page, _ = get(preview, "/en/")
    assert status == 500 and "RuntimeError('boom')" in BeautifulSoup(page, "lxml").select_one("ol li").get_text()
    monkeypatch.undo()
    preview.rebuild()
    assert get(preview, "/en/")[0] == 200


def test_requests_are_answered_while_a_build_runs(preview: Preview, monkeypatch: pytest.MonkeyPatch) -> None:
    started, release = threading.Event(), threading.Event()
    real_build = serve.build

    def slow_build(options: object) -> object:
        started.set()
        assert release.wait(60)
        return real_build(options)

    monkeypatch.setattr(serve, "build", slow_build)
    version = version_of(get(preview, "/de/")[1])
    edit(preview, "de/ursachen.md", "title: ", "title: Langsam – ")
    assert started.wait(60), "the watcher started a build"
    try:
        status, page, _ = get(preview, "/de/ursachen/")  # the build runs off the server's thread
        assert status == 200 and version_of(page) == version
    finally:
        release.set()
    wait_for_build(preview, version)
    assert BeautifulSoup(get(preview, "/de/ursachen/")[1], "lxml").h1.get_text().startswith("Langsam – ")


def test_stop_ends_everything_and_closes_the_port(tmp_path: Path) -> None:
    before = set(threading.enumerate())
    preview = Preview(copy_project(tmp_path / "project"), "127.0.0.1", 0)
    preview.start()
    version = version_of(get(preview, "/de/")[1])
    connected, closed = threading.Event(), threading.Event()

    def tab() -> None:
        async def wait() -> None:
            socket = await open_tab(preview, version)
            connected.set()
            if await next_message(socket) is None:
                closed.set()

        asyncio.run(wait())

    waiting = threading.Thread(target=tab)
    waiting.start()
    assert connected.wait(30)
    preview.stop()
    waiting.join(timeout=30)
    assert closed.is_set(), "an open tab's websocket is closed"
    assert not [t for t in set(threading.enumerate()) - before if t.name.startswith("preview-")], "server and watcher ended"
    with pytest.raises(OSError):
        get(preview, "/de/")


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the server's, on purpose
def test_a_server_that_cannot_start_is_reported_not_waited_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(server: object, sockets: object) -> None:
        raise OSError("no sockets today")

    monkeypatch.setattr(serve.HTTPServer, "add_sockets", refuse)
    preview = Preview(copy_project(tmp_path / "project"), "127.0.0.1", 0)
    failures: list[BaseException] = []

    def start() -> None:
        try:
            preview.start()
        except BaseException as exc:  # noqa: BLE001 - the test looks at what start() raised
            failures.append(exc)

    starting = threading.Thread(target=start, daemon=True)  # daemon: a hang must not keep pytest alive
    starting.start()
    starting.join(timeout=60)
    assert not starting.is_alive(), "start() waits for a server that will never serve"
    preview.stop()
    assert [type(f) for f in failures] == [serve.PreviewStopped]


def test_the_serve_command_ends_when_the_watcher_fails(tmp_path: Path) -> None:
    """A preview that no longer rebuilds must not pretend to: the command says so and exits 1."""
    root = copy_project(tmp_path / "project")
    script = (
        "import sys\n"
        "from guidesite import cli, serve\n"
        "def broken(watcher, timeout=None):\n"
        "    raise RuntimeError('watching failed')\n"
        "serve.Watcher.next_changes = broken\n"
        "sys.exit(cli.main(sys.argv[1:]))\n"
    )
    result = subprocess.run([sys.executable, "-c", script, "--root", str(root), "serve", "--port", "0"],
                            capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.returncode == 1, result.stderr
    assert "serve: the preview stopped after an internal error" in result.stderr
    assert "RuntimeError: watching failed" in result.stderr  # the cause, shown once, by the thread


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_the_serve_command_serves_until_ctrl_c(tmp_path: Path, stop: signal.Signals) -> None:
    root = copy_project(tmp_path / "project")
    command = subprocess.Popen(
        [sys.executable, str(REPO / "build.py"), "--root", str(root), "serve", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as in a terminal
    )
    try:
        lines = [command.stdout.readline(), command.stdout.readline()]
        url = re.search(r"http://127\.0\.0\.1:\d+/", lines[1])
        assert re.match(r"\d\d:\d\d:\d\d  built \d+ pages in ", lines[0]) and url, lines
        with urlopen(url.group(0) + "de/", timeout=60) as response:
            assert response.status == 200
    finally:
        command.send_signal(stop)
        out, err = command.communicate(timeout=60)
    assert command.returncode == 0 and "Traceback" not in err, err


def test_serve_refuses_a_reachable_address_unless_asked(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, str(REPO / "build.py"), "serve", "--host", "0.0.0.0", "--port", "0"],
                            capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert result.returncode == 2 and "--allow-remote" in result.stderr
    assert not (tmp_path / PREVIEW_DIR).exists()


def test_the_error_page_shows_the_lines_around_each_error(preview: Preview) -> None:
    version = version_of(get(preview, "/de/")[1])
    edit(preview, "de/ursachen.md", "\ntitle: ", "\nnav:1\ntitle: ")
    wait_for_build(preview, version)
    source = (preview.root / "content/de/ursachen.md").read_text("utf-8").splitlines()
    line = source.index("nav:1") + 1

    soup = BeautifulSoup(get(preview, "/de/ursachen/")[1], "lxml")
    item = soup.select_one("ol li")
    assert item.code.get_text() == f"content/de/ursachen.md:{line}: front matter is not valid YAML: 'nav:1' needs a space after the colon: write 'nav: 1'"
    rows = [row.get_text() for row in item.select("pre > *")]
    numbers = [int(re.match(r"^[> ] +(\d+) \| ", row).group(1)) for row in rows]
    assert numbers == list(range(max(1, line - 3), line + 4)), "three lines either side"
    for number, row in zip(numbers, rows):
        assert row.endswith(f"| {source[number - 1]}"), "each line as the file has it"
    assert [row.get_text() for row in item.select("pre > mark")] == [f"> {line} | nav:1"], "the error's line, marked"


def test_an_error_outside_any_file_has_no_excerpt(preview: Preview, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(options: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(serve, "build", crash)
    preview.rebuild()
    item = BeautifulSoup(get(preview, "/en/")[1], "lxml").select_one("ol li")
    assert "RuntimeError('boom')" in item.get_text() and item.pre is None

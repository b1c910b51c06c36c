"""What an editor types and reads, run as an editor runs it: build.py from a fresh shell, the
address `new` prints, a second translation refused, and serve's port, browser and
addresses for a phone.
"""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import venv
from collections.abc import Iterator
from pathlib import Path
from urllib.request import urlopen

import pytest
from bs4 import BeautifulSoup

from conftest import REPO, copy_project
from guidesite.serve import Preview, reachable_urls


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Python without any of the project's packages, as `python` is in a fresh shell."""
    folder = tmp_path_factory.mktemp("bare")
    venv.create(folder, with_pip=False)
    python = folder / "bin" / "python"
    assert subprocess.run([python, "-c", "import jinja2"], capture_output=True).returncode != 0
    return python


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    """A copy of the project as an editor's clone has it after the set-up: build.py and .venv/ included."""
    root = copy_project(tmp_path / "project")
    (root / "build.py").write_bytes((REPO / "build.py").read_bytes())
    (root / ".venv").symlink_to(REPO / ".venv")
    return root


def fresh_shell(bare_python: Path) -> dict[str, str]:
    """The environment of a new terminal: `python` is the bare one, nothing is activated."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env["PATH"] = f"{bare_python.parent}:/usr/bin:/bin"
    return env


def documented_commands(text: str) -> list[str]:
    """Every `python build.py …` written in a document, with its line breaks undone."""
    return [" ".join(found.split()) for found in re.findall(r"`(python build\.py[^`]*)`", text)]


def test_build_py_runs_from_a_fresh_shell_with_the_projects_python(project: Path, bare_python: Path) -> None:
    result = subprocess.run(["python", "build.py", "check"], cwd=project, env=fresh_shell(bare_python),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("checked ") and "Traceback" not in result.stderr


def test_without_the_set_up_build_py_says_what_to_run(tmp_path: Path, bare_python: Path) -> None:
    (tmp_path / "build.py").write_bytes((REPO / "build.py").read_bytes())
    (tmp_path / "guidesite").symlink_to(REPO / "guidesite")  # the code, but no .venv/
    result = subprocess.run(["python", "build.py", "check"], cwd=tmp_path, env=fresh_shell(bare_python),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "bash scripts/setup.sh" in result.stderr


def test_the_editors_guide_commands_work_verbatim_in_a_fresh_shell(project: Path, bare_python: Path) -> None:
    """content/README.md's commands in the order an editor follows them (serve, which does
    not end, and those with a <placeholder> or [option] aside)."""
    commands = [c for c in documented_commands((REPO / "content/README.md").read_text("utf-8"))
                if not re.search(r"[<\[]|--\S+$", c) and " serve" not in c]  # nor a fragment naming an option
    assert any(" new " in c for c in commands) and any(c.endswith(" check") for c in commands)
    for command in commands:
        result = subprocess.run(command, shell=True, cwd=project, env=fresh_shell(bare_python),
                                capture_output=True, text=True, timeout=300)
        assert "Traceback" not in result.stderr, command
        if result.returncode == 2 and "arguments are required" in result.stderr:
            # A command named in a sentence ("… run `python build.py reviewed`"): it exists.
            assert subprocess.run(f"{command} --help", shell=True, cwd=project, env=fresh_shell(bare_python),
                                  capture_output=True, timeout=60).returncode == 0, command
            continue
        assert result.returncode == 0, (command, result.stderr)


def test_every_command_in_help_is_a_command(project: Path, bare_python: Path) -> None:
    help_text = subprocess.run(["python", "build.py", "--help"], cwd=project, env=fresh_shell(bare_python),
                               capture_output=True, text=True, timeout=60).stdout
    listed = re.findall(r"(?m)^    ([a-z]+)\b", help_text.split("  COMMAND\n", 1)[1].split("\n\n")[0])
    assert "build" in listed and "serve" in listed
    for name in listed:
        result = subprocess.run(["python", "build.py", name, "--help"], cwd=project, env=fresh_shell(bare_python),
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0 and result.stdout.startswith("usage: build.py " + name), name


def test_new_prints_the_file_and_an_address_that_shows_it(project: Path) -> None:
    created = subprocess.run([sys.executable, "build.py", "new", "de", "vorbeugen/dehnen"], cwd=project,
                             capture_output=True, text=True, timeout=120)
    assert created.returncode == 0, created.stderr
    file = re.search(r"^created (\S+)$", created.stdout, re.M).group(1)
    assert (project / file).is_file()
    address = re.search(r"http://127\.0\.0\.1:(\d+)(/\S*)", created.stdout)
    assert address and "python build.py serve" in created.stdout
    preview = Preview(project, "127.0.0.1", 0)
    preview.start()
    try:  # the same path on the port this preview got
        with urlopen(f"http://127.0.0.1:{preview.port}{address.group(2)}", timeout=60) as response:
            page = BeautifulSoup(response.read(), "lxml")
    finally:
        preview.stop()
    assert page.h1.get_text(strip=True).startswith("Dehnen")


def test_a_second_translation_into_one_language_is_refused_naming_the_first(project: Path) -> None:
    first = subprocess.run([sys.executable, "build.py", "new", "en", "prevention/stretching",
                            "--translation-of", "de/vorbeugen/aufwaermen.md"], cwd=project, capture_output=True, text=True)
    assert first.returncode == 1, "the guide has an English warm-up page already"
    existing = re.search(r"content/en/\S+\.md", first.stderr).group(0)
    assert (project / existing).is_file() and "key: warm-up" in (project / existing).read_text("utf-8")
    assert not (project / "content/en/prevention/stretching.md").exists()
    # A page of its own, translated once, then a second time.
    subprocess.run([sys.executable, "build.py", "new", "de", "vorbeugen/dehnen"], cwd=project, check=True, capture_output=True)
    args = ["--translation-of", "content/de/vorbeugen/dehnen.md"]
    once = subprocess.run([sys.executable, "build.py", "new", "en", "prevention/stretching", *args], cwd=project,
                          capture_output=True, text=True)
    twice = subprocess.run([sys.executable, "build.py", "new", "en", "prevention/stretches", *args], cwd=project,
                           capture_output=True, text=True)
    assert once.returncode == 0, once.stderr
    assert twice.returncode == 1 and "content/en/prevention/stretching.md" in twice.stderr and "Traceback" not in twice.stderr
    assert not (project / "content/en/prevention/stretches.md").exists()
    assert subprocess.run([sys.executable, "build.py", "check"], cwd=project, capture_output=True).returncode == 0


class Serving:
    """`build.py serve` as a command, with its output read line by line."""

    def __init__(self, project: Path, *args: str, env: dict[str, str] | None = None):
        self.process = subprocess.Popen([sys.executable, "build.py", "serve", *args], cwd=project, env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def line_with(self, text: str) -> str:
        seen = []
        while line := self.process.stdout.readline():
            seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"no line with {text!r} in {seen}, stderr: {self.process.stderr.read()}")

    def stop(self) -> str:
        self.process.send_signal(signal.SIGINT)
        rest, errors = self.process.communicate(timeout=60)
        assert self.process.returncode == 0 and "Traceback" not in errors, errors
        return rest


@pytest.fixture()
def busy_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


def test_a_busy_port_makes_the_preview_take_the_next_free_one(project: Path, busy_port: int) -> None:
    serving = Serving(project, "--port", str(busy_port))
    try:
        said = serving.line_with("in use")
        assert str(busy_port) in said
        url = re.search(r"http://127\.0\.0\.1:(\d+)/", serving.line_with("Preview with drafts at"))
        assert int(url.group(1)) != busy_port
        with urlopen(url.group(0) + "de/", timeout=60) as response:
            assert response.status == 200
    finally:
        serving.stop()


def test_open_opens_the_preview_in_the_browser(project: Path, tmp_path: Path) -> None:
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"  # stands in for the browser: webbrowser runs $BROWSER with the address
    browser.write_text(f"#!/bin/sh\necho \"$1\" > {opened}\n", "utf-8")
    browser.chmod(0o755)
    serving = Serving(project, "--port", "0", "--open", env={**os.environ, "BROWSER": str(browser)})
    try:
        url = re.search(r"http://127\.0\.0\.1:\d+/", serving.line_with("Preview with drafts at")).group(0)
        for _ in range(600):  # the browser is opened right after that line: wait for it (upper bound)
            if opened.is_file() and opened.read_text("utf-8").endswith("\n"):
                break
            time.sleep(0.1)
    finally:
        serving.stop()
    assert opened.read_text("utf-8").strip() == url


def test_allow_remote_prints_addresses_another_device_can_open(project: Path) -> None:
    serving = Serving(project, "--host", "0.0.0.0", "--allow-remote", "--port", "0")
    try:
        local = serving.line_with("Preview with drafts at")
        port = re.search(r"http://127\.0\.0\.1:(\d+)/", local).group(1)
        network = serving.line_with("network")
        addresses = re.findall(r"http://[^\s]+/", network)
        assert "0.0.0.0" not in local + network
        assert addresses == reachable_urls("0.0.0.0", int(port)), "this machine's own addresses"
        for address in addresses:
            host = address.split("//")[1].rsplit(":", 1)[0]
            assert not host.startswith("127.")
            with urlopen(address + "de/", timeout=60) as response:  # reachable at that address
                assert response.status == 200
    finally:
        serving.stop()

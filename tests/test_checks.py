"""The checks over the rendered site: here, that nothing is loaded from another host."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, copy_project
from guidesite.assets import collect_assets
from guidesite.checks import check_repeated_ids, check_third_party, scan_page
from guidesite.errors import ErrorList

BASE_URL = "https://guide.example/"


def third_party_errors(tmp_path: Path, html: str, css: str | None = None) -> list[str]:
    (tmp_path / "templates").mkdir(exist_ok=True)
    if css is not None:
        (tmp_path / "assets" / "css").mkdir(parents=True, exist_ok=True)
        (tmp_path / "assets" / "css" / "site.css").write_text(css, encoding="utf-8")
    errors = ErrorList(tmp_path)
    check_third_party({"de/index.html": html.encode("utf-8")}, collect_assets(tmp_path, "/"), BASE_URL, errors)
    return [str(e) for e in sorted(errors.items)]


@pytest.mark.parametrize("markup", [
    '<script src="https://cdn.example.com/app.js"></script>',
    '<link rel="stylesheet" href="https://fonts.googleapis.com/css2?family=Inter">',
    '<link rel="preconnect" href="https://fonts.gstatic.com">',
    '<link rel="icon" href="//cdn.example.com/favicon.ico">',
    '<link rel="manifest" href="https://cdn.example.com/app.webmanifest">',
    '<link rel="preload" as="font" href="https://cdn.example.com/font.woff2">',
    '<img src="https://tracker.example.com/pixel.gif" alt="">',
    '<img src="/a.png" srcset="/a.png 1x, https://cdn.example.com/a@2x.png 2x" alt="">',
    '<picture><source srcset="https://cdn.example.com/a.webp"></picture>',
    '<iframe src="https://www.youtube.com/embed/x"></iframe>',
    '<video src="https://cdn.example.com/v.mp4" ></video>',
    '<video poster="https://cdn.example.com/p.jpg"></video>',
    '<audio src="https://cdn.example.com/a.mp3"></audio>',
    '<object data="https://cdn.example.com/x.swf"></object>',
    '<embed src="https://cdn.example.com/x.swf">',
    '<div style="background: url(\'https://cdn.example.com/bg.png\')"></div>',
    '<style>body { background: url(https://cdn.example.com/bg.png) }</style>',
    '<style>@import "https://cdn.example.com/more.css";</style>',
    '<a href="/de/" ping="https://tracker.example.com/ping">Start</a>',
])
def test_a_resource_from_another_host_is_an_error_with_file_and_line(tmp_path: Path, markup: str) -> None:
    errors = third_party_errors(tmp_path, f"<!doctype html>\n<html>\n<body>\n{markup}\n</body></html>")
    assert len(errors) == 1, errors
    assert errors[0].startswith("site/de/index.html:4: ")
    assert "another host" in errors[0]


def test_own_files_links_and_references_are_fine(tmp_path: Path) -> None:
    html = """<!doctype html><html><head>
<link rel="stylesheet" href="/assets/css/site.1234567890.css">
<link rel="icon" href="https://guide.example/assets/img/favicon.svg">
<link rel="canonical" href="https://guide.example/de/">
<link rel="alternate" hreflang="en" href="https://other-mirror.example/en/">
<script type="application/ld+json">{"url": "https://schema.org"}</script>
</head><body>
<a href="https://www.nhs.uk/conditions/back-pain/" rel="external noopener noreferrer">NHS</a>
<img src="../img/plank.svg" alt="Plank">
<div style="background: url(data:image/png;base64,AAAA)"></div>
</body></html>"""
    assert third_party_errors(tmp_path, html) == []


def test_a_stylesheet_loading_from_another_host_is_an_error_at_its_line(tmp_path: Path) -> None:
    css = "body { margin: 0 }\n\n@import url('https://fonts.googleapis.com/css2?family=Inter');\n"
    errors = third_party_errors(tmp_path, "<p>ok</p>", css)
    assert errors == [
        "assets/css/site.css:3: loads https://fonts.googleapis.com/css2?family=Inter from another host "
        "(fonts.googleapis.com): serve it from assets/ instead"
    ]


def test_a_template_that_adds_a_third_party_script_fails_the_build(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    base = project / "templates" / "base.html"
    lines = base.read_text("utf-8").splitlines(keepends=True)
    head_end = next(i for i, line in enumerate(lines) if line.startswith("</head>"))
    lines.insert(head_end, '<script src="https://analytics.example.net/track.js" defer></script>\n')
    base.write_text("".join(lines), encoding="utf-8")
    (project / "site").mkdir()
    (project / "site" / "keep.txt").write_text("the last good site", encoding="utf-8")
    result = subprocess.run([sys.executable, str(REPO / "build.py"), "--root", str(project)],
                            capture_output=True, text=True, cwd=project)
    assert result.returncode == 1
    expected = (f"templates/base.html:{head_end + 1}: <script src> loads https://analytics.example.net/track.js "
                "from another host (analytics.example.net): serve it from assets/ instead")
    assert expected in result.stderr.splitlines()
    assert "Traceback" not in result.stderr
    assert [p.name for p in (project / "site").iterdir()] == ["keep.txt"]


def test_malformed_tags_do_not_stall_the_scan() -> None:
    """An attribute name starts only after a space, '/' or quote: before, a run of name
    characters could be split in exponentially many ways, and this took the scan hours.
    In a process of its own, as a stalled regular expression holds the interpreter's lock."""
    script = (
        "from guidesite.checks import scan_page\n"
        "scan = scan_page('<img src=\"https://elsewhere.example/x.png\" id=found>' + '<a b' * 60)\n"  # never closed
        "print(sorted(scan.ids), [url for url, _line, _what in scan.loads])\n"
    )
    try:  # the timeout is an upper bound for a stalled scan, not a speed target
        result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("the scan of a malformed tag did not end")
    assert result.stdout == "['found'] ['https://elsewhere.example/x.png']\n", result.stderr


@pytest.mark.parametrize(("markup", "ids", "loads"), [
    # As html.parser (and a browser) reads them: one <pt> whose first attribute is "=<img".
    ('<pt\n=<img src="https://elsewhere.example/x.png">', set(), []),
    ("<bx id=x \"-->", {"x"}, []),
])
def test_malformed_tags_are_read_as_html_parser_reads_them(markup: str, ids: set[str], loads: list[str]) -> None:
    from guidesite.checks import scan_page

    scan = scan_page(markup)
    assert (set(scan.ids), [url for url, _line, _what in scan.loads]) == (ids, loads)


def test_an_id_given_twice_is_found_with_its_line() -> None:
    scan = scan_page('<main id="main">\n<p id="a">x</p>\n<a href="#a" id="main">y</a>\n</main>\n')
    assert scan.repeated == (("main", 3),)
    errors = ErrorList(Path("/project"))
    check_repeated_ids("de/index.html", scan, errors)
    assert [str(e) for e in errors.items] == ["site/de/index.html:3: the id 'main' is given twice on the page"]

"""The checks over the rendered site: here, that nothing is loaded from another host."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, copy_project
from guidesite.checks import check_repeated_ids, scan_page
from guidesite.errors import ErrorList
from robustness import make_small_site, run_build

# Each loads something from another host as the page loads (or, for ping, as a link is
# followed); each address is its own, so that the template line holding it is found.
FOREIGN = [
    '<script src="https://cdn.example.com/app.js"></script>',
    '<link rel="stylesheet" href="https://fonts.googleapis.com/css2?family=Inter">',
    '<link rel="preconnect" href="https://fonts.gstatic.com">',
    '<link rel="icon" href="//cdn.example.com/favicon.ico">',
    '<link rel="manifest" href="https://cdn.example.com/app.webmanifest">',
    '<link rel="preload" as="font" href="https://cdn.example.com/font.woff2">',
    '<img src="https://tracker.example.com/pixel.gif" alt="">',
    '<img src="{{ asset(\'img/plank.svg\') }}" srcset="{{ asset(\'img/plank.svg\') }} 1x, https://cdn.example.com/a@2x.png 2x" alt="">',
    '<picture><source srcset="https://cdn.example.com/a.webp"></picture>',
    '<iframe src="https://www.youtube.com/embed/x"></iframe>',
    '<video src="https://cdn.example.com/v.mp4" ></video>',
    '<video poster="https://cdn.example.com/p.jpg"></video>',
    '<audio src="https://cdn.example.com/a.mp3"></audio>',
    '<object data="https://cdn.example.com/x.swf"></object>',
    '<embed src="https://cdn.example.com/y.swf">',
    '<div style="background: url(\'https://cdn.example.com/bg.png\')"></div>',
    '<style>body { background: url(https://cdn.example.com/body.png) }</style>',
    '<style>@import "https://cdn.example.com/more.css";</style>',
    '<a href="{{ site.home }}" ping="https://tracker.example.com/ping">Start</a>',
]
# An address the template puts together: no template line holds it, so the page is named.
ASSEMBLED = '<img src="{{ \'https://cdn.example.com/\' ~ \'assembled.png\' }}" alt="">'


def _errors(stderr: str) -> list[str]:
    """The error lines (file:line: message) of a build's output: no warnings, no summary."""
    return [line for line in stderr.splitlines() if re.match(r"[^\s:]+:\d+: ", line)]


def _checked_with(root: Path, lines: list[str]) -> tuple[subprocess.CompletedProcess[str], int]:
    """`build.py check` with these lines in every page's template, one a line just before
    </body>; with the template line of the first."""
    base = root / "templates" / "base.html"
    text = base.read_text("utf-8")
    first = text[:text.index("</body>")].count("\n") + 1
    base.write_text(text.replace("</body>", "".join(line + "\n" for line in lines) + "</body>", 1), "utf-8")
    return run_build(root, "check"), first


@pytest.fixture(scope="module")
def foreign(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], int]:
    """The small site's check with every FOREIGN line and ASSEMBLED in its template: its
    error lines, and the template line of the first FOREIGN one."""
    done, first = _checked_with(make_small_site(tmp_path_factory.mktemp("foreign") / "project"), [*FOREIGN, ASSEMBLED])
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    return _errors(done.stderr), first


@pytest.mark.parametrize("index", range(len(FOREIGN)), ids=[markup.split()[0] for markup in FOREIGN])
def test_a_resource_from_another_host_is_an_error_with_file_and_line(foreign: tuple[list[str], int], index: int) -> None:
    errors, first = foreign
    found = [line for line in errors if line.startswith(f"templates/base.html:{first + index}: ")]
    assert len(found) == 1, errors
    assert "from another host" in found[0] and "serve it from assets/ instead" in found[0]


def test_an_address_no_template_holds_is_an_error_at_each_page(foreign: tuple[list[str], int]) -> None:
    errors, _ = foreign
    pages = {line.split(":", 1)[0] for line in errors if "loads https://cdn.example.com/assembled.png from another host" in line}
    assert {"site/de/index.html", "site/de/seite/index.html", "site/en/index.html", "site/en/page/index.html"} <= pages, errors
    assert len(errors) == len(FOREIGN) + len(pages), errors  # nothing else on the page was taken for a load


def test_own_files_links_and_references_are_fine(tmp_path: Path) -> None:
    fine = [
        '<link rel="icon" href="{{ site.base_url }}{{ asset(\'img/favicon.svg\')[1:] }}">',  # this host, absolute
        '<link rel="alternate" hreflang="en" href="https://other-mirror.example/en/">',  # a reference, not a load
        '<script type="application/ld+json">{"url": "https://schema.org"}</script>',
        '<a href="https://www.nhs.uk/conditions/back-pain/" rel="external noopener noreferrer">NHS</a>',
        '<img src="{{ asset(\'img/plank.svg\') }}" alt="Plank">',
        '<div style="background: url(data:image/png;base64,AAAA)"></div>',
    ]
    done, _ = _checked_with(make_small_site(tmp_path / "project"), fine)
    assert done.returncode == 0, done.stderr


def test_a_stylesheet_loading_from_another_host_is_an_error_at_its_line(tmp_path: Path) -> None:
    root = make_small_site(tmp_path / "project")
    css = root / "assets" / "css" / "site.css"
    lines = css.read_text("utf-8").count("\n")
    css.write_text(css.read_text("utf-8") + "\n@import url('https://fonts.googleapis.com/css2?family=Inter');\n", "utf-8")
    done = run_build(root, "check")
    assert done.returncode == 1
    assert _errors(done.stderr) == [
        f"assets/css/site.css:{lines + 2}: loads https://fonts.googleapis.com/css2?family=Inter from another host "
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

"""What the preview's server answers (guidesite/preview_server.py): the site's own 404
pages, redirects, refused paths and links out of its folder, and the reload script in
every page, however the page is written."""
from __future__ import annotations

import re

import pytest

from guidesite.serve import Preview, inject, is_loopback
from test_serve import SCRIPT, get, version_of, wait_for_build

TRAVERSALS = [
    "/../site.yaml", "/../../site.yaml", "/de/../../../site.yaml", "/%2e%2e/%2e%2e/site.yaml",
    "/%2E%2E%2F%2E%2E%2Fsite.yaml", "/de/%2e%2e%2f%2e%2e%2f%2e%2e%2fsite.yaml", "/..%5c..%5csite.yaml",
    "/..\\..\\site.yaml", "//etc/passwd", "/%2fetc%2fpasswd", "/de//etc/passwd", "/./de/", "/de/.",
    "/%252e%252e/%252e%252e/site.yaml", "/..%00/site.yaml", "/%c0%ae%c0%ae/%c0%ae%c0%ae/site.yaml",
    "/" + "../" * 12 + "etc/passwd",
]


@pytest.mark.parametrize(("path", "page_404"), [
    ("/de/gibt-es-nicht/", "de/404.html"),
    ("/en/missing", "en/404.html"),
    ("/missing.html", "404.html"),
    ("/fr/", "404.html"),
])
def test_missing_paths_get_the_sites_own_localised_404_page(unchanged: Preview, path: str, page_404: str) -> None:
    preview = unchanged
    status, page, headers = get(preview, path)
    assert status == 404 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert SCRIPT.sub(b"</head>", page) == (preview.out_dir / page_404).read_bytes()


def test_a_folder_without_its_slash_is_redirected(unchanged: Preview) -> None:
    status, _, headers = get(unchanged, "/de/ursachen")
    assert status == 301 and headers["Location"] == "/de/ursachen/"


@pytest.mark.parametrize("path", TRAVERSALS)
def test_path_traversal_is_refused(unchanged: Preview, path: str) -> None:
    status, body, _ = get(unchanged, path)
    assert status in (403, 404)
    assert b"base_url" not in body and b"root:" not in body


def test_links_out_of_the_served_folder_are_refused(preview: Preview) -> None:
    (preview.out_dir / "outside").symlink_to(preview.root)
    (preview.out_dir / "config.yaml").symlink_to(preview.root / "site.yaml")
    for path in ("/outside/site.yaml", "/config.yaml", "/outside/"):
        status, body, _ = get(preview, path)
        assert status == 403 and b"base_url" not in body


def test_the_script_is_injected_whatever_the_casing_and_size() -> None:
    padding = b"<meta name=x content='" + b"y" * 200_000 + b"'>"
    for page in (b"<html><HEAD>" + padding + b"</HEAD><body>x</body></html>",
                 b"<html><head>" + padding + b"</head  ><body>x</body></html>"):
        out = inject(page, "/livereload.js?port=1&snipver=v7")
        assert out.count(b"/livereload.js") == 1
        assert out.index(b"/livereload.js") > len(padding) and re.search(rb"</head\s*><body>", out, re.I)
    assert inject(b"<p>no head at all</p>", "/livereload.js?snipver=v7").endswith(b'snipver=v7"></script>\n')


def test_a_long_page_from_the_pipeline_gets_the_script(preview: Preview) -> None:
    version = version_of(get(preview, "/de/")[1])
    paragraphs = "".join(f"\nAbsatz {i}: " + "Text. " * 40 + "\n" for i in range(400))
    (preview.root / "content/de/lang.md").write_text(
        f"---\ntitle: Lang\ndescription: Eine lange Seite.\nkey: long\nslug: lang\n---\n{paragraphs}", "utf-8")
    wait_for_build(preview, version)
    status, page, _ = get(preview, "/de/lang/")
    assert status == 200 and len(page) > 64 * 1024
    version_of(page)


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.8.9.1", True), ("::1", True), ("localhost", True),
    ("0.0.0.0", False), ("::", False), ("192.168.1.20", False), ("example.org", False),
])
def test_only_loopback_addresses_count_as_local(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback

"""Search: one Pagefind index per language, in shards for a large one (guidesite/search.py),
the search field in every page's header (assets/js/search.js, search-ui.js) and the A-Z page
it leads to without JavaScript (guidesite/a_z.py). The index is read as the browser reads
it: Pagefind's fragments are gzip-compressed JSON behind a signature."""
from __future__ import annotations

import contextlib
import functools
import gzip
import json
import os
import re
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page

import guidesite.search
from conftest import REPO, BuiltSite, copy_project
from guidesite.pipeline import BuildOptions, build
from guidesite.serve import Preview
from test_browser import (AXE_TAGS, PHONE, Watcher, _axe_violations, _context, _QuietHandler, _Server, _url_path,  # noqa: F401 (fixtures)
                          axe, server)

SIGNATURE = b"pagefind_dcd"
# Pages per shard for the sharded sites below: the guide's 17 pages a language then make 5
# or 6 shards, as 1,500 pages would with the real setting (guidesite.search.PAGES_PER_SHARD).
SMALL_SHARDS = 3


def indexed(site: Path, lang: str, folder: str | None = None) -> dict[str, dict]:
    """What the language's index holds, in all its shards or in the one in `folder` (its path
    below site/<lang>/pagefind/, "" for the first): each record (url, content, meta) by URL."""
    records = {}
    pattern = "**/fragment/*.pf_fragment" if folder is None else f"{folder}fragment/*.pf_fragment"
    for fragment in sorted((site / lang / "pagefind").glob(pattern)):
        data = gzip.decompress(fragment.read_bytes())
        assert data.startswith(SIGNATURE)
        record = json.loads(data[len(SIGNATURE):])
        assert f"/{lang}{record['url']}" not in records, f"{record['url']} is in two shards"
        records[f"/{lang}{record['url']}"] = record
    return records


def shards(site: Path, lang: str) -> list[str]:
    """The language's shards as the search script finds them: the first, then those listed."""
    return ["", *json.loads((site / lang / "pagefind" / "shards.json").read_text("utf-8"))]


def language_pages(guide: BuiltSite, lang: str) -> list[str]:
    """The pages of one language that come from its content (not the 404 and A-Z pages)."""
    return [rel for rel in guide.pages() if rel.startswith(f"{lang}/") and not rel.startswith(f"{lang}/a-z/")]


def _text(guide: BuiltSite, rel: str, selector: str) -> str:
    element = guide.soup(rel).select_one(selector)
    return " ".join(element.get_text(" ").split()) if element else ""


def _letters(text: str) -> str:
    """Text without spaces and signs: Pagefind spaces inline elements its own way."""
    return "".join(c for c in text.casefold() if c.isalnum())


@pytest.mark.parametrize("lang", ["de", "en"])
def test_each_language_has_an_index_of_its_own_pages_main_content(guide: BuiltSite, lang: str) -> None:
    entry = json.loads((guide.root / lang / "pagefind" / "pagefind-entry.json").read_text("utf-8"))
    assert shards(guide.root, lang) == [""]  # a site of this size has one shard a language
    # One language per index, stemmed as that language (Pagefind's WebAssembly for it).
    assert list(entry["languages"]) == [lang] and entry["languages"][lang]["wasm"] == lang
    records = indexed(guide.root, lang)
    pages = {_url_path(rel): rel for rel in language_pages(guide, lang)}
    assert set(records) == set(pages)
    assert entry["languages"][lang]["page_count"] == len(pages)
    for url, record in records.items():
        rel = pages[url]
        assert record["meta"]["title"] == _text(guide, rel, "main h1"), url
        # The article's text is there; the menu, the footer and the disclaimer are not.
        content = _letters(record["content"])
        paragraphs = [p for p in guide.soup(rel).select("article p") if not p.find_parent(["header", "nav"])]
        assert paragraphs and _letters(paragraphs[-1].get_text())[:60] in content, url
        for outside in ("footer", ".disclaimer", "nav.site-nav"):
            text = _letters(_text(guide, rel, outside))
            assert text and text not in content, f"{url}: {outside} is indexed"


def test_the_search_field_leads_to_a_page_that_lists_every_page(guide: BuiltSite) -> None:
    for lang in ("de", "en"):
        a_z = f"{lang}/a-z/index.html"
        listed = {a["href"]: a.find_parent("div").dd.get_text() for a in guide.soup(a_z).select(".a-z__pages dt a")}
        pages = language_pages(guide, lang)
        assert set(listed) == {_url_path(rel) for rel in pages}
        for rel in pages:
            assert listed[_url_path(rel)] == guide.soup(rel).select_one('meta[name="description"]')["content"]
        titles = [a.get_text() for a in guide.soup(a_z).select(".a-z__pages dt a")]
        assert len(titles) == len(pages)
        for rel in guide.html_files():
            soup = guide.soup(rel)
            form = soup.select_one("header form[role=search]")
            if rel == "index.html":  # the root chooser has no header
                continue
            page_lang = soup.html["lang"]
            assert form is not None and form["action"] == f"/{page_lang}/a-z/", rel
            assert soup.select_one(f'footer a[href="/{page_lang}/a-z/"]'), rel
            label = soup.select_one(f'label[for="{form.input["id"]}"]')
            assert label and label.get_text().strip(), rel


def test_a_page_with_no_main_content_is_not_indexed(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    (project / "content/en/empty.md").write_text(
        "---\ntitle: Nothing here yet\ndescription: A page whose body is still to be written.\n"
        "key: empty\nslug: empty\nlayout: page\n---\n", "utf-8")
    out = tmp_path / "site"
    build(BuildOptions(root=project, out_dir=out))
    site = BuiltSite(out)
    records = indexed(out, "en")
    assert "/en/empty/" not in records
    assert "/en/404.html" not in records and "/en/a-z/" not in records
    assert len(records) == len(language_pages(site, "en")) - 1
    # Not searchable, but listed from A to Z like every page.
    assert site.soup("en/a-z/index.html").select_one('.a-z__pages a[href="/en/empty/"]')


def test_a_build_in_which_no_page_changed_does_not_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = copy_project(tmp_path / "project")
    indexed_languages: list[set[str]] = []
    real = guidesite.search._index

    def counting(shards, *args):
        indexed_languages.append({shard.lang for shard in shards})
        return real(shards, *args)

    monkeypatch.setattr(guidesite.search, "_index", counting)
    out = project / "site"
    build(BuildOptions(root=project, out_dir=out))
    first = {p.relative_to(out).as_posix(): p.read_bytes() for p in (out / "de" / "pagefind").rglob("*") if p.is_file()}
    build(BuildOptions(root=project, out_dir=out))
    assert indexed_languages == [{"de", "en"}]
    assert first == {p.relative_to(out).as_posix(): p.read_bytes() for p in (out / "de" / "pagefind").rglob("*") if p.is_file()}
    page = project / "content/de/vorbeugen/aufwaermen.md"
    page.write_text(page.read_text("utf-8") + "\nEin neuer Satz über Schnürsenkelknoten.\n", "utf-8")
    build(BuildOptions(root=project, out_dir=out))
    assert indexed_languages == [{"de", "en"}, {"de"}]
    assert "Schnürsenkelknoten" in indexed(out, "de")["/de/vorbeugen/aufwaermen/"]["content"]


def _build_with_indexer(project: Path, binary: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PAGEFIND_BINARY_PATH": str(binary)}
    return subprocess.run([sys.executable, str(REPO / "build.py"), "--root", str(project)],
                          capture_output=True, text=True, env=env, timeout=300)


def _script(path: Path, text: str) -> Path:
    path.write_text("#!/bin/sh\n" + text + "\n", "utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.mark.parametrize(("binary", "expected"), [
    ("missing", "Pagefind's indexer binary is not installed for this platform"),
    # Each language has an indexer of its own, and both stop: the one that stops first is named.
    ("exits", r"Pagefind's indexer stopped while indexing (de|en) \(exit code 3\)"),
    ("panics", r"Pagefind's indexer stopped while indexing (de|en) \(it wrote what is not Pagefind's protocol\)"),
])
def test_without_a_working_indexer_the_build_says_so_in_one_line_and_publishes_nothing(
        tmp_path: Path, binary: str, expected: str) -> None:
    project = copy_project(tmp_path / "project")
    scripts = {"exits": "exit 3",
               "panics": "echo 'thread main panicked at src/service.rs:12:5, out of memory'; exec sleep 600"}
    indexer = _script(tmp_path / "pagefind", scripts[binary]) if binary in scripts else tmp_path / "no-such-pagefind"
    result = _build_with_indexer(project, indexer)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if "error(s)" not in line and not line.startswith("warning:")]
    assert len(errors) == 1, result.stderr
    assert re.search(expected, errors[0]) and "bash scripts/setup.sh" in errors[0], errors[0]
    assert not (project / "site").exists()


# -- in the browser ---------------------------------------------------------------------

def _search(page: Page, words: str) -> list[str]:
    """Type into the header's search field as a reader does; the result links once announced."""
    field = page.get_by_role("searchbox")
    field.click()
    field.press_sequentially(words)
    page.wait_for_function("words => document.querySelector('.site-search__results').dataset.query === words", arg=words)
    return [urlsplit(a.get_attribute("href")).path for a in page.locator(".site-search__list a").all()]


@pytest.mark.browser
@pytest.mark.parametrize(("start", "words", "expected"), [
    ("/de/", "Aufwärmen", "/de/vorbeugen/aufwaermen/"),
    ("/en/", "warm up", "/en/prevention/warm-up/"),
    ("/de/", "aufwärmt", "/de/vorbeugen/aufwaermen/"),  # another form of the word
    ("/en/", "warming", "/en/prevention/warm-up/"),
    ("/de/linderung/", "Aufwärm", "/de/vorbeugen/aufwaermen/"),  # not typed to the end yet
])
def test_a_search_finds_the_page_in_the_readers_language_only(server: str, browser: Browser, start: str, words: str, expected: str) -> None:
    context = _context(browser)
    page = context.new_page()
    watcher = Watcher(page, server)
    page.goto(server + start)
    found = _search(page, words)
    lang = start.split("/")[1]
    assert expected in found
    assert all(path.startswith(f"/{lang}/") for path in found), found
    status = page.locator(".site-search__status").inner_text()
    if page.locator(".site-search__more").is_hidden():  # all results shown: their number is announced
        assert str(len(found)) in status, status
    item = page.locator(".site-search__list li").filter(has=page.locator(f'a[href="{expected}"]'))
    assert item.locator("mark").count() >= 1  # the match is marked in the excerpt
    assert watcher.take() == []
    context.close()


@pytest.mark.browser
def test_search_code_and_index_load_only_when_the_reader_starts_to_search(server: str, browser: Browser) -> None:
    context = _context(browser)
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda r: requested.append(urlsplit(r.url).path))
    page.goto(server + "/de/ursachen/", wait_until="load")  # deferred scripts have run by then
    assert not [p for p in requested if "/pagefind/" in p or "search-ui" in p], requested
    _search(page, "Laufen")
    assert any(p.endswith("/de/pagefind/pagefind.js") for p in requested)
    assert not [p for p in requested if "/en/" in p], requested
    context.close()


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_results_showing_have_zero_axe_violations(server: str, browser: Browser, axe: Axe, scheme: str) -> None:  # noqa: F811
    context = _context(browser, color_scheme=scheme, viewport=PHONE, is_mobile=True)
    page = context.new_page()
    watcher = Watcher(page, server)
    problems = []
    for start, words in (("/de/", "Rücken"), ("/en/", "back pain"), ("/en/", "zzqxj")):
        page.goto(server + start)
        _search(page, words)
        problems += [f"{start} {words}: {p}" for p in _axe_violations(axe, page, {"runOnly": {"type": "tag", "values": AXE_TAGS}})]
        widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        if widths[0] > widths[1]:
            problems.append(f"{start} {words}: scrolls sideways {widths}")
    problems += watcher.take()
    context.close()
    assert not problems, "\n".join(problems)


@pytest.mark.browser
def test_search_works_with_the_keyboard_alone(server: str, browser: Browser) -> None:
    context = _context(browser)
    page = context.new_page()
    page.goto(server + "/en/")
    for _ in range(40):  # Tab until the search field has focus, as a keyboard user does
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.type") == "search":
            break
    assert page.evaluate("document.activeElement.type") == "search"
    page.keyboard.type("warm")
    page.wait_for_function("() => document.querySelectorAll('.site-search__list a').length > 0")
    page.keyboard.press("ArrowDown")
    first = page.locator(".site-search__list a").first
    assert page.evaluate("document.activeElement.getAttribute('href')") == first.get_attribute("href")
    target = urlsplit(first.get_attribute("href")).path
    page.keyboard.press("Enter")
    page.wait_for_url(server + target)
    page.go_back()
    page.locator("#site-search-input").focus()
    page.keyboard.press("Escape")
    assert page.locator("#site-search-input").input_value() == ""
    context.close()


@pytest.mark.browser
def test_the_preview_has_search_too(tmp_path: Path, browser: Browser) -> None:
    preview = Preview(copy_project(tmp_path / "project"), "127.0.0.1", 0)
    preview.start()
    try:
        context = _context(browser)
        page = context.new_page()
        page.goto(preview.url + "en/")
        assert "/en/prevention/warm-up/" in _search(page, "warm up")
        context.close()
    finally:
        preview.stop()


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["de", "en"])
def test_without_javascript_the_search_field_leads_to_every_page_of_the_language(
        guide: BuiltSite, server: str, browser: Browser, lang: str) -> None:
    context = _context(browser, java_script_enabled=False)
    page = context.new_page()
    page.goto(server + f"/{lang}/")
    page.get_by_role("searchbox").fill("Aufwärmen")
    page.get_by_role("searchbox").press("Enter")
    page.wait_for_url(f"{server}/{lang}/a-z/?q=*")
    listed = {urlsplit(a.get_attribute("href")).path for a in page.locator(".a-z__pages dt a").all() if a.is_visible()}
    assert listed == {_url_path(rel) for rel in language_pages(guide, lang)}
    context.close()


# -- a large language's index in shards ----------------------------------------------------

def _build_sharded(project: Path) -> Path:
    out = project / "site"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(guidesite.search, "PAGES_PER_SHARD", SMALL_SHARDS)
        build(BuildOptions(root=project, out_dir=out))
    return out


@pytest.fixture(scope="module")
def sharded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The guide built with a few pages per shard: several shards a language."""
    return _build_sharded(copy_project(tmp_path_factory.mktemp("sharded") / "project"))


@contextlib.contextmanager
def _serving(folder: Path) -> Iterator[str]:
    httpd = _Server(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def sharded_server(sharded: Path) -> Iterator[str]:
    with _serving(sharded) as url:
        yield url


def _shard_of_each_page(site: Path, lang: str) -> dict[str, str]:
    """URL -> the folder of the shard that holds it."""
    return {url: folder for folder in shards(site, lang) for url in indexed(site, lang, folder)}


@pytest.mark.parametrize("lang", ["de", "en"])
def test_a_large_language_is_indexed_in_shards_that_hold_each_of_its_pages_once(sharded: Path, lang: str) -> None:
    folders = shards(sharded, lang)
    assert len(folders) >= 4
    # Every shard on disk is listed for the search script, and every listed one is there.
    assert sorted(folders[1:]) == sorted(f"{p.name}/" for p in (sharded / lang / "pagefind").iterdir() if p.name.startswith("shard-"))
    for folder in folders:
        bundle = sharded / lang / "pagefind" / folder
        entry = json.loads((bundle / "pagefind-entry.json").read_text("utf-8"))
        assert list(entry["languages"]) == [lang] and entry["languages"][lang]["wasm"] == lang, folder
        assert entry["languages"][lang]["page_count"] == len(indexed(sharded, lang, folder)) > 0, folder
        # Only the first shard carries Pagefind's script, worker and WebAssembly: the search uses the first's for all.
        carried = {(bundle / name).exists() for name in ("pagefind.js", "pagefind-worker.js", f"wasm.{lang}.pagefind")}
        assert carried == {folder == ""}, folder
    # indexed() refuses a page found in two shards.
    assert set(indexed(sharded, lang)) == {_url_path(rel) for rel in language_pages(BuiltSite(sharded), lang)}


@pytest.mark.browser
def test_a_search_covers_every_shard_of_the_readers_language_in_one_list(sharded: Path, sharded_server: str, browser: Browser) -> None:
    holder = _shard_of_each_page(sharded, "de")
    folders = shards(sharded, "de")
    last = indexed(sharded, "de", folders[-1])
    url, record = sorted(last.items())[0]
    context = _context(browser)
    page = context.new_page()
    watcher = Watcher(page, sharded_server)
    requested: list[str] = []
    context.on("request", lambda r: requested.append(urlsplit(r.url).path))
    page.goto(sharded_server + "/de/")
    assert url in _search(page, record["meta"]["title"])  # a page in the last shard
    # Each shard's index was asked for; Pagefind's WebAssembly and worker once, from the first shard.
    for folder in folders:
        assert f"/de/pagefind/{folder}pagefind-entry.json" in requested, folder
    assert [p for p in requested if "/wasm." in p] == ["/de/pagefind/wasm.de.pagefind"], requested
    assert [p for p in requested if p.endswith("pagefind-worker.js")] == ["/de/pagefind/pagefind-worker.js"], requested

    word = "Rücken"
    assert len({holder[u] for u, r in indexed(sharded, "de").items() if word.casefold() in r["content"].casefold()}) >= 2
    page.get_by_role("searchbox").fill("")
    _search(page, word)
    more = page.locator(".site-search__more")
    while more.is_visible():  # every result, batch after batch
        shown = page.locator(".site-search__list a").count()
        more.click()
        page.wait_for_function("n => document.querySelectorAll('.site-search__list a').length > n", arg=shown)
    found = [urlsplit(a.get_attribute("href")).path for a in page.locator(".site-search__list a").all()]
    assert all(path.startswith("/de/") for path in found), found
    assert len({holder[path] for path in found}) >= 2, found  # results of several shards, in one list
    assert str(len(found)) in page.locator(".site-search__status").inner_text()
    assert not [p for p in requested if "/en/" in p], requested
    assert watcher.take() == []
    context.close()


@pytest.mark.browser
def test_an_edit_re_indexes_only_the_shard_of_the_page_edited(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, browser: Browser) -> None:
    project = copy_project(tmp_path / "project")
    out = _build_sharded(project)
    holder = _shard_of_each_page(out, "de")["/de/vorbeugen/aufwaermen/"]
    others = {lang: [folder for folder in shards(out, lang) if (lang, folder) != ("de", holder)] for lang in ("de", "en")}

    def bundle(lang: str, folder: str) -> dict[str, bytes]:
        files = (out / lang / "pagefind" / folder).rglob("*")
        return {p.relative_to(out).as_posix(): p.read_bytes() for p in files if p.is_file() and not p.relative_to(out / lang / "pagefind" / folder).parts[0].startswith("shard-")}

    before = {(lang, folder): bundle(lang, folder) for lang in others for folder in others[lang]}
    indexed_shards: list[list[tuple[str, int]]] = []
    real = guidesite.search._index

    def counting(to_index, *args):
        indexed_shards.append(sorted((shard.lang, shard.number) for shard in to_index))
        return real(to_index, *args)

    monkeypatch.setattr(guidesite.search, "_index", counting)
    edited = project / "content/de/vorbeugen/aufwaermen.md"
    edited.write_text(edited.read_text("utf-8") + "\nEin neuer Satz über Schnürsenkelknoten.\n", "utf-8")
    _build_sharded(project)

    assert indexed_shards == [[("de", int(holder.removeprefix("shard-").rstrip("/") or 0))]]
    assert {key: bundle(*key) for key in before} == before  # every other shard as it was
    assert "Schnürsenkelknoten" in indexed(out, "de", holder)["/de/vorbeugen/aufwaermen/"]["content"]
    with _serving(out) as url:
        context = _context(browser)
        page = context.new_page()
        page.goto(url + "/de/")
        assert _search(page, "Schnürsenkelknoten")[0] == "/de/vorbeugen/aufwaermen/"  # the one page with the whole word
        context.close()

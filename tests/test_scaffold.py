"""`new` and `translated` on copies of the project: complete front matter, recorded sources, digests."""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, copy_project
from guidesite.content import read_page
from guidesite.errors import BuildError, ErrorList
from guidesite.pipeline import BuildOptions, build
from guidesite.scaffold import mark_reviewed, mark_translated, new_page

TODAY = dt.date(2026, 3, 5)


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "project")


def page(project: Path, rel: str):
    errors = ErrorList(project)
    result = read_page(project / "content" / rel, rel, rel.split("/")[0], errors)
    assert not errors.items, errors.items
    return result


def run(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(REPO / "build.py"), "--root", str(project), *args],
                          capture_output=True, text=True, cwd=project)


def test_new_fills_every_required_field_and_the_page_builds(project: Path) -> None:
    assert new_page(project, "de", "vorbeugen/neues-thema", today=TODAY) == "content/de/vorbeugen/neues-thema.md"
    meta = page(project, "de/vorbeugen/neues-thema.md").meta
    assert (meta.title, meta.key, meta.slug, meta.layout) == ("Neues thema", "neues-thema", "vorbeugen/neues-thema", "article")
    assert meta.published == TODAY
    # Not reviewed until `reviewed` records a review: no placeholder reviewer, no review dates.
    assert (meta.reviewer, meta.last_reviewed, meta.next_review, meta.review_digest) == (None, None, None, None)
    assert meta.description.startswith("[") and meta.draft
    assert meta.parent == page(project, "de/vorbeugen.md").meta.key  # the folder's page
    built = build(BuildOptions(root=project, out_dir=project / "site", drafts=True))
    assert "de/vorbeugen/neues-thema/index.html" in built.files


def test_new_page_layout_has_no_review_fields(project: Path) -> None:
    new_page(project, "en", "contact", layout="page", today=TODAY)
    meta = page(project, "en/contact.md").meta
    assert meta.layout == "page" and meta.published is None and meta.reviewer is None and meta.parent is None


def test_a_review_on_a_leap_day_is_due_again_on_the_28th_next_year(project: Path) -> None:
    mark_reviewed(project, "content/de/ursachen.md", "Dr. med. Test", today=dt.date(2028, 2, 29))
    assert page(project, "de/ursachen.md").meta.next_review == dt.date(2029, 2, 28)


def test_translation_of_copies_the_key_and_records_the_source(project: Path) -> None:
    source = page(project, "de/vorbeugen/laufhaltung.md")
    (project / "content/en/prevention/posture.md").unlink()  # new makes one translation per language only
    new_page(project, "en", "prevention/posture-2", translation_of="content/de/vorbeugen/laufhaltung.md", today=TODAY)
    meta = page(project, "en/prevention/posture-2.md").meta
    assert meta.key == source.meta.key and meta.parent == source.meta.parent and meta.layout == source.meta.layout
    assert meta.translation_of is not None
    assert (meta.translation_of.source, meta.translation_of.digest) == (source.rel, source.digest)


def test_new_refuses_to_overwrite(project: Path) -> None:
    before = (project / "content/de/ursachen.md").read_bytes()
    result = run(project, "new", "de", "ursachen")
    assert result.returncode == 1
    assert result.stderr.startswith("content/de/ursachen.md:1: ") and "already exists" in result.stderr
    assert (project / "content/de/ursachen.md").read_bytes() == before


@pytest.mark.parametrize("args", [
    ("fr", "neu"),  # not a language of the site
    ("de", "Neues_Thema"),  # not a slug
    ("de", "../draussen"),
    ("en", "x", "--translation-of", "de/missing.md"),
    ("en", "x", "--translation-of", "en/causes.md"),  # same language
])
def test_new_refuses_bad_arguments_with_a_located_message(project: Path, args: tuple[str, ...]) -> None:
    before = sorted(p for p in (project / "content").rglob("*"))
    result = run(project, "new", *args)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert ":1: " in result.stderr
    assert sorted(p for p in (project / "content").rglob("*")) == before


@pytest.mark.parametrize("newline", ["\r\n", "\r"], ids=["crlf", "lone-cr"])
def test_translated_changes_only_the_digest_bytes(project: Path, newline: str) -> None:
    (project / "content/en/prevention/posture.md").unlink()  # new makes one translation per language only
    new_page(project, "en", "prevention/posture-2", translation_of="de/vorbeugen/laufhaltung.md", today=TODAY)
    target = project / "content/en/prevention/posture-2.md"
    # An editor's file: its line endings (either kind the build reads), a comment and a BOM must all survive.
    original = "\ufeff" + target.read_text("utf-8").replace("layout:", "# keep me\nlayout:").replace("\n", newline)
    target.write_bytes(original.encode("utf-8"))
    source = project / "content/de/vorbeugen/laufhaltung.md"
    source.write_text(source.read_text("utf-8") + "\nEin neuer Absatz.\n", "utf-8")
    new_digest = page(project, "de/vorbeugen/laufhaltung.md").digest

    assert "marked as up to date" in mark_translated(project, "content/en/prevention/posture-2.md")
    after = target.read_bytes().decode("utf-8")
    assert page(project, "en/prevention/posture-2.md").meta.translation_of.digest == new_digest
    before_lines, after_lines = original.split(newline), after.split(newline)
    changed = [(a, b) for a, b in zip(before_lines, after_lines) if a != b]
    assert len(before_lines) == len(after_lines) and len(changed) == 1
    assert changed[0][1] == f'  digest: "{new_digest}"'
    assert "already up to date" in mark_translated(project, "en/prevention/posture-2.md")
    assert target.read_bytes().decode("utf-8") == after


def test_translated_works_on_flow_style_front_matter(project: Path) -> None:
    source = page(project, "de/ursachen.md")
    target = project / "content/en/causes.md"
    text = target.read_text("utf-8").replace("\n---\n", f"\ntranslation_of: {{source: {source.rel}, digest: old0123}} # old\n---\n", 1)
    target.write_text(text, "utf-8")
    mark_translated(project, str(target))
    assert target.read_text("utf-8") == text.replace("digest: old0123}", f'digest: "{source.digest}"}}')


def test_translated_refuses_a_page_that_is_no_translation(project: Path) -> None:
    with pytest.raises(BuildError) as caught:
        mark_translated(project, "de/ursachen.md")
    assert str(caught.value.errors[0]).startswith("content/de/ursachen.md:1: this page has no translation_of")


def test_a_language_starts_with_its_home_page_made_from_the_default_languages(project: Path) -> None:
    (project / "content/en/index.md").unlink()
    result = run(project, "new", "en", "index", "--translation-of", "de/index.md")
    assert result.returncode == 0, result.stderr
    assert "created content/en/index.md" in result.stdout and "http://127.0.0.1:8000/en/ " in result.stdout
    meta = page(project, "en/index.md").meta
    assert (meta.key, meta.slug, meta.layout) == ("home", "", "home") and meta.draft
    (project / "content/en/index.md").unlink()
    refused = run(project, "new", "en", "start", "--translation-of", "de/index.md")
    assert refused.returncode == 1 and "a language's home page is content/<language>/index.md" in refused.stderr

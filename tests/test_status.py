"""`status`, the outdated-translation notice and `check --strict` on copies of the project."""
from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from conftest import REPO, copy_project
from guidesite.pipeline import BuildOptions, build
from guidesite.scaffold import mark_reviewed, mark_translated, new_page
from guidesite.status import collect_status, format_status

TODAY = dt.date(2026, 11, 26)
REVIEWED = dt.date(2026, 11, 26)  # the day the guide was last reviewed: no review is due then


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "project")


def run(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(REPO / "build.py"), "--root", str(project), *args],
                          capture_output=True, text=True, cwd=project)


def set_field(project: Path, rel: str, name: str, value: str) -> None:
    path = project / "content" / rel
    text, count = re.subn(rf"(?m)^{name}: .*$", f"{name}: {value}", path.read_text("utf-8"), count=1)
    assert count == 1
    path.write_text(text, "utf-8")


def edit_body(project: Path, rel: str) -> None:
    path = project / "content" / rel
    path.write_text(path.read_text("utf-8") + "\nEin neuer Absatz.\n", "utf-8")


def translate_posture(project: Path) -> None:
    """Replace the English posture page by one made with `new --translation-of` (not a draft)."""
    (project / "content/en/prevention/posture.md").unlink()
    new_page(project, "en", "prevention/posture", translation_of="de/vorbeugen/laufhaltung.md", today=TODAY)
    path = project / "content/en/prevention/posture.md"
    path.write_text(path.read_text("utf-8").replace("draft: true\n", "") + "Text.\n", "utf-8")


def test_status_lists_every_key_with_present_missing_and_outdated(project: Path) -> None:
    translate_posture(project)
    (project / "content/en/prevention/footwear.md").unlink()
    edit_body(project, "de/vorbeugen/laufhaltung.md")
    status = collect_status(project, TODAY)
    states = {item.key: item.states for item in status.keys}
    assert states["posture"] == {"de": "ok", "en": "outdated"}
    assert states["footwear"] == {"de": "ok", "en": "missing"}
    assert states["causes"] == {"de": "ok", "en": "ok"}
    assert len(states) == 17  # every key of the guide

    result = run(project, "status")
    assert result.returncode == 0, result.stderr
    assert re.search(r"(?m)^  posture +ok +outdated$", result.stdout)
    assert "content/en/prevention/posture.md: outdated; update it, then run: python build.py translated" in result.stdout
    assert "footwear: missing in en; create it with: python build.py new en <path> --translation-of de/vorbeugen/laufschuhe.md" in result.stdout


def test_status_counts_drafts_and_marks_them(project: Path) -> None:
    """A translation in progress is a draft: the build leaves it out, status must not."""
    new_page(project, "en", "prevention/stretching", today=TODAY)  # a draft, no German page yet
    status = collect_status(project, TODAY)
    item = next(i for i in status.keys if i.key == "stretching")
    assert item.states == {"de": "missing", "en": "ok"} and item.drafts == {"en"}
    assert re.search(r"(?m)^  stretching +missing +ok \(draft\)$", format_status(status, TODAY))


def test_marking_translated_makes_it_current_again(project: Path) -> None:
    translate_posture(project)
    edit_body(project, "de/vorbeugen/laufhaltung.md")
    mark_translated(project, "en/prevention/posture.md")
    states = {item.key: item.states for item in collect_status(project, TODAY).keys}
    assert states["posture"] == {"de": "ok", "en": "ok"}


def review(project: Path, rel: str, day: str, due: str) -> None:
    mark_reviewed(project, f"content/{rel}", "Dr. med. Test", TODAY, dt.date.fromisoformat(day), dt.date.fromisoformat(due))


def test_status_lists_reviews_overdue_or_due_within_30_days(project: Path) -> None:
    review(project, "de/ursachen.md", "2025-11-01", "2026-11-01")
    review(project, "en/causes.md", "2025-12-20", "2026-12-20")
    review(project, "en/relief.md", "2025-12-27", "2026-12-27")  # 31 days ahead: not yet
    reviews = {r.rel: r.due for r in collect_status(project, TODAY).reviews}
    assert reviews == {"de/ursachen.md": dt.date(2026, 11, 1), "en/causes.md": dt.date(2026, 12, 20)}
    text = format_status(collect_status(project, TODAY), TODAY)
    assert re.search(r"content/de/ursachen.md:\d+: overdue since 2026-11-01", text)
    assert re.search(r"content/en/causes.md:\d+: due on 2026-12-20", text)


def test_status_exits_0_even_with_problems_to_report(project: Path) -> None:
    (project / "content/en/relief.md").unlink()
    review(project, "de/ursachen.md", "2019-01-01", "2020-01-01")
    result = run(project, "status")
    assert result.returncode == 0, result.stderr
    assert "relief: missing in en" in result.stdout and "overdue since 2020-01-01" in result.stdout


def test_outdated_translation_warns_and_fails_check_strict(project: Path) -> None:
    translate_posture(project)
    outdated = re.compile(r"content/en/prevention/posture.md:\d+: translated from content/de/vorbeugen/laufhaltung.md, which has changed since")
    assert not [w for w in warnings_on(project, REVIEWED) if outdated.match(w)]
    edit_body(project, "de/vorbeugen/laufhaltung.md")
    plain = run(project, "check")
    assert plain.returncode == 0 and outdated.search(plain.stderr)
    assert [w for w in warnings_on(project, REVIEWED) if outdated.match(w)]
    strict = run(project, "check", "--strict")
    assert strict.returncode == 1 and re.search("^warning: " + outdated.pattern, strict.stderr, re.M)


def warnings_on(project: Path, today: dt.date) -> list[str]:
    """What `check` warns of, on the given day."""
    return [str(w) for w in build(BuildOptions(root=project, out_dir=project / "site", write=False, today=today)).warnings]


@pytest.mark.parametrize("break_it", ["missing translation", "overdue review"])
def test_check_strict_fails_on_missing_translations_and_overdue_reviews(project: Path, break_it: str) -> None:
    if break_it == "missing translation":
        expected = "content/de/neu.md:4: no translation in en (no page there has key 'new-topic')"
        assert expected not in run(project, "check", "--strict").stderr
        (project / "content/de/neu.md").write_text(
            "---\ntitle: Neu\ndescription: Eine neue Seite.\nkey: new-topic\nslug: neu\n---\nText.\n", "utf-8")
    else:
        review(project, "de/ursachen.md", "2026-01-01", "2026-06-01")
        expected = "content/de/ursachen.md:13: review was due on 2026-06-01"
        assert expected not in "\n".join(warnings_on(project, dt.date(2026, 5, 31)))
    result = run(project, "check", "--strict")
    assert result.returncode == 1 and "fail --strict" in result.stderr and expected in result.stderr


def test_readers_of_an_outdated_translation_see_a_notice_linking_the_original(project: Path) -> None:
    translate_posture(project)
    current = build(BuildOptions(root=project, out_dir=project / "site", write=False))
    assert not BeautifulSoup(current.files["en/prevention/posture/index.html"], "lxml").select(".outdated-notice")
    edit_body(project, "de/vorbeugen/laufhaltung.md")
    files = build(BuildOptions(root=project, out_dir=project / "site", write=False)).files
    notice = BeautifulSoup(files["en/prevention/posture/index.html"], "lxml").select_one(".outdated-notice")
    assert notice is not None
    link = notice.find("a")
    assert link["href"] == "/de/vorbeugen/laufhaltung/" and link["hreflang"] == "de"
    assert "out of date" in notice.get_text()  # in the page's language, English
    assert notice.select_one("[lang=de]").get_text() == "Deutsch"
    assert not BeautifulSoup(files["de/vorbeugen/laufhaltung/index.html"], "lxml").select(".outdated-notice")


def test_the_notice_is_in_german_on_a_german_translation(project: Path) -> None:
    (project / "content/de/vorbeugen/laufhaltung.md").unlink()
    new_page(project, "de", "vorbeugen/laufhaltung", translation_of="en/prevention/posture.md", today=TODAY)
    path = project / "content/de/vorbeugen/laufhaltung.md"
    path.write_text(path.read_text("utf-8").replace("draft: true\n", "") + "Text.\n", "utf-8")
    edit_body(project, "en/prevention/posture.md")
    files = build(BuildOptions(root=project, out_dir=project / "site", write=False)).files
    notice = BeautifulSoup(files["de/vorbeugen/laufhaltung/index.html"], "lxml").select_one(".outdated-notice")
    assert "Übersetzung" in notice.get_text() and notice.find("a")["href"] == "/en/prevention/posture/"

"""The translation check: each rule fires on a small site, at the file and line of the
difference, naming both files; declared differences are not reported; the real guide passes."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from conftest import REPO
from guidesite.pipeline import BuildOptions, build
from guidesite.status import collect_status, format_status
from robustness import make_small_site, run_build

TODAY = dt.date(2026, 12, 3)
DE = "content/de/artikel.md"
EN = "content/en/article.md"

GERMAN = """---
title: Ein Artikel
description: Ein Artikel zum Prüfen der Übersetzung.
key: article
slug: artikel
layout: article
published: 2026-01-01
---

In einer Studie mit 800 Teilnehmenden war das Risiko 2,6-mal so hoch [@known2020].

## Übungen {#exercises}

![Unterarmstütz: Körper in einer Linie](assets/img/plank.svg)

Halte den Stütz 3 × 30 Sekunden.

::: note Gut zu wissen
Eine Notiz.
:::

## Wann zum Arzt {#doctor}

::: care emergency
### Ruf sofort den Notruf [112](tel:112), wenn:
- beide Beine taub werden
- du Blase oder Darm nicht mehr kontrollieren kannst
:::
"""

ENGLISH = """---
title: An article
description: An article to check the translation with.
key: article
slug: article
layout: article
published: 2026-01-01
---

In a study of 800 participants the risk was 2.6 times as high [@known2020].

## Exercises {#exercises}

![Plank: body in a straight line](assets/img/plank.svg)

Hold the plank 3 × 30 seconds.

::: note Good to know
A note.
:::

## When to see a doctor {#doctor}

::: care emergency
### Call [999](tel:999) now if:
- both legs go numb
- you cannot control your bladder or bowels
:::
"""


@pytest.fixture()
def site(tmp_path: Path) -> Path:
    root = make_small_site(tmp_path / "project")
    # Only the article pair differs or not: the small site's own pages are left out.
    (root / "content/de/seite.md").unlink()
    (root / "content/en/page.md").unlink()
    for lang, title in (("de", "Startseite"), ("en", "Home")):
        (root / f"content/{lang}/index.md").write_text(
            f"---\ntitle: {title}\ndescription: {title}.\nkey: home\nslug: \"\"\nlayout: home\n---\n\n[@known2020]\n", "utf-8")
    (root / DE).write_text(GERMAN, "utf-8")
    (root / EN).write_text(ENGLISH, "utf-8")
    return root


def warnings(root: Path) -> list[str]:
    result = build(BuildOptions(root=root, out_dir=root / "site", write=False, today=TODAY))
    # The article is not reviewed: that warning is tested elsewhere and not wanted here.
    return [str(w) for w in result.warnings if "reviewed" not in w.message]


def edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text("utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), "utf-8")


def line_of(root: Path, rel: str, text: str) -> int:
    return next(n for n, line in enumerate((root / rel).read_text("utf-8").split("\n"), start=1) if text in line)


def test_a_faithful_translation_has_no_differences(site: Path) -> None:
    """2,6 and 2.6 are one number, and so are 112 and 999 (each edition's emergency number)."""
    assert warnings(site) == []


def test_a_source_cited_on_one_side_only(site: Path) -> None:
    (site / "content/sources.yaml").write_text((site / "content/sources.yaml").read_text("utf-8")
                                               + "other2021:\n  authors: [Other B]\n  title: Another source\n  journal: J\n  year: 2021\n", "utf-8")
    edit(site, DE, "## Übungen", "Mehr dazu [@other2021].\n\n## Übungen")
    line = line_of(site, DE, "[@other2021]")
    assert warnings(site) == [
        f"{DE}:{line}: cites source 'other2021', which {EN} does not cite; "
        f"if that is intended, declare 'source other2021' under differences in {EN} with the reason"]


@pytest.mark.parametrize(("old", "new", "figure", "english", "lost"), [
    ("3 × 30 Sekunden", "3 × 45 Sekunden", "45", "3 × 30 seconds", "30"),  # a dose
    ("2,6-mal", "2,8-mal", "2.8", "2.6 times", "2.6"),  # a ratio, in German notation
    ("800 Teilnehmenden", "1.000 Teilnehmenden", "1000", "800 participants", "800"),  # a German group separator
])
def test_a_figure_that_differs_is_reported_in_both_files(site: Path, old: str, new: str, figure: str, english: str, lost: str) -> None:
    edit(site, DE, old, new)
    assert warnings(site) == [
        f"{DE}:{line_of(site, DE, new)}: the figure {figure} appears here but not in {EN}; "
        f"if that is intended, declare 'figure {figure}' under differences in {EN} with the reason",
        f"{EN}:{line_of(site, EN, english)}: the figure {lost} appears here but not in {DE}; "
        f"if that is intended, declare 'figure {lost}' under differences in {EN} with the reason"]


def test_the_german_emergency_number_on_the_english_page_is_a_difference(site: Path) -> None:
    """112 is the German edition's emergency number; on an English page it is a figure like any other."""
    edit(site, EN, "A note.", "In Europe the number is 112.")
    assert warnings(site) == [
        f"{EN}:{line_of(site, EN, 'In Europe')}: the figure 112 appears here but not in {DE}; "
        f"if that is intended, declare 'figure 112' under differences in {EN} with the reason"]


def test_a_care_card_with_fewer_warning_signs(site: Path) -> None:
    edit(site, EN, "- both legs go numb\n", "")
    assert warnings(site) == [
        f"{EN}:{line_of(site, EN, '::: care emergency')}: this care card 'emergency' lists 1 warning signs, the one in "
        f"{DE}:{line_of(site, DE, '::: care emergency')} lists 2; if that is intended, declare 'care emergency' under differences in {EN} with the reason"]


def test_a_care_card_of_another_level(site: Path) -> None:
    edit(site, EN, "::: care emergency\n### Call [999](tel:999) now if:", "::: care doctor\n### See a GP if:")
    found = "\n".join(warnings(site))
    assert (f"{DE}:{line_of(site, DE, '::: care')}: care card 'emergency' has no counterpart in {EN} "
            f"(at that place it has care card 'doctor' at line {line_of(site, EN, '::: care')})") in found
    assert f"{EN}:{line_of(site, EN, '::: care')}: care card 'doctor' has no counterpart in {DE}" in found
    # and the emergency number the English card no longer names
    assert f"{DE}:{line_of(site, DE, 'Notruf')}: the figure emergency number appears here but not in {EN}" in found


def test_a_section_missing_and_a_pinned_id_that_differs(site: Path) -> None:
    edit(site, DE, "## Wann zum Arzt {#doctor}", "## Belege {#evidence}\n\nText.\n\n## Wann zum Arzt {#arzt}")
    found = warnings(site)
    assert found[0].startswith(f"{DE}:{line_of(site, DE, '{#evidence}')}: ## heading 'Belege' (#evidence) has no counterpart in {EN}")
    assert found[1].startswith(f"{DE}:{line_of(site, DE, '{#arzt}')}: ## heading 'Wann zum Arzt' (#arzt) has no counterpart in {EN}")
    assert found[2].startswith(f"{EN}:{line_of(site, EN, '{#doctor}')}: ## heading 'When to see a doctor' (#doctor) has no counterpart in {DE}")
    assert len(found) == 3


def test_images_and_callouts_out_of_order(site: Path) -> None:
    edit(site, EN, "![Plank: body in a straight line](assets/img/plank.svg)\n\nHold the plank 3 × 30 seconds.\n\n::: note Good to know\nA note.\n:::",
         "Hold the plank 3 × 30 seconds.\n\n::: warning\nA note.\n:::\n\n![Bridge](assets/img/bridge.svg)")
    found = warnings(site)
    assert any(w.startswith(f"{DE}:{line_of(site, DE, 'plank.svg')}: image plank.svg has no counterpart in {EN}") for w in found)
    assert any(w.startswith(f"{EN}:{line_of(site, EN, 'bridge.svg')}: image bridge.svg has no counterpart in {DE}") for w in found)
    assert any(w.startswith(f"{DE}:{line_of(site, DE, '::: note')}: callout note 'Gut zu wissen' has no counterpart in {EN}") for w in found)
    assert any(w.startswith(f"{EN}:{line_of(site, EN, '::: warning')}: callout warning has no counterpart in {DE}") for w in found)


def test_a_declared_difference_is_not_reported_and_status_lists_it(site: Path) -> None:
    edit(site, DE, "Eine Notiz.", "Die [116 117](tel:116117) erreichst du nur in Deutschland.")
    assert warnings(site) == [
        f"{DE}:{line_of(site, DE, '116 117')}: the figure urgent-advice number appears here but not in {EN}; "
        f"if that is intended, declare 'figure urgent-advice number' under differences in {EN} with the reason"]
    edit(site, EN, "published: 2026-01-01\n", "published: 2026-01-01\ndifferences:\n  figure urgent-advice number: 116 117 works in Germany only\n")
    assert warnings(site) == []
    report = format_status(collect_status(site, TODAY), TODAY)
    assert f"{EN}:8: figure urgent-advice number: 116 117 works in Germany only" in report


def test_a_declared_difference_that_does_not_exist_is_reported(site: Path) -> None:
    edit(site, EN, "published: 2026-01-01\n", "published: 2026-01-01\ndifferences:\n  figure 42: an old note\n")
    assert warnings(site) == [f"{EN}:8: differences: 'figure 42' is declared, but {EN} and {DE} do not differ in it: remove it"]


def test_strict_check_fails_on_a_difference_and_a_build_only_warns(site: Path) -> None:
    edit(site, EN, "3 × 30", "3 × 20")
    built = run_build(site)
    assert built.returncode == 0 and f"warning: {EN}:" in built.stderr
    strict = run_build(site, "check", "--strict")
    assert strict.returncode == 1 and f"{EN}:{line_of(site, EN, '3 × 20')}: the figure 20 appears here but not in {DE}" in strict.stderr


def test_the_real_guide_passes_the_translation_check() -> None:
    result = build(BuildOptions(root=REPO, out_dir=REPO / "site", write=False))
    differences = [str(w) for w in result.warnings if "under differences in" in w.message or "is declared, but" in w.message]
    assert differences == []

"""A deterministic synthetic bilingual guide for benchmarks and cache tests.

`generate(root, n)` writes a complete project under `root`: `site.yaml`, `content/de`
and `content/en` with `n` articles each (plus home, about, imprint, category and topic
pages), `content/sources.yaml`, and copies of the repository's templates, assets,
translations and babel.cfg. The same `n` and `seed` always give the same bytes.

Articles are valid for our schema and use what real pages use: `##`/`###` headings (some
with pinned ids), paragraphs with emphasis and quotes, bullet and numbered lists,
tables, footnotes, note and warning callouts, care cards, images, external links,
citations of keys in the generated bibliography, and internal links to other articles
and to their heading ids.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import posixpath
import random
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from babel.messages.catalog import Catalog  # noqa: E402

from guidesite.content import page_digest  # noqa: E402
from guidesite.slugs import slugify  # noqa: E402

COPIED = ("templates", "assets", "translations", "babel.cfg")
LANGS = ("de", "en")
# More languages for measuring how a build grows with them: their text is the English
# vocabulary under their own code, their locale and quotation marks CLDR's (see README).
EXTRA_LANGUAGES = {
    "fr": ("fr_FR", ["«\u202f", "\u202f»", "“", "”"]), "ar": ("ar", "”“’‘"), "tr": ("tr_TR", "“”‘’"),
    "uk": ("uk_UA", "«»„“"), "pl": ("pl_PL", "„”‚’"), "es": ("es_ES", "«»“”"), "it": ("it_IT", "«»“”"),
    "fa": ("fa_IR", "«»‹›"),
}


def languages(count: int) -> tuple[str, ...]:
    """The first `count` languages: German and English, then EXTRA_LANGUAGES in order."""
    return (LANGS + tuple(EXTRA_LANGUAGES))[:count]


def _v(lang: str) -> str:
    """Whose vocabulary a language's generated text uses."""
    return lang if lang in WORDS else "en"
CATEGORIES = 8
ARTICLES_PER_TOPIC = 25
GENERATOR_VERSION = "4"

WORDS = {
    "de": (
        "Rücken Wirbelsäule Bandscheibe Muskel Sehne Band Gelenk Becken Hüfte Knie Fuß Schritt "
        "Laufschuh Dämpfung Belastung Training Pause Erholung Schmerz Beschwerde Zerrung Haltung "
        "Rumpf Kraft Ausdauer Dehnung Beweglichkeit Studie Übersicht Befragung Ergebnis Risiko "
        "Woche Minute Strecke Tempo Intervall Steigung Untergrund Asphalt Waldweg Bahn Läuferin "
        "Läufer Praxis Physiotherapie Hausarztpraxis Übung Wiederholung Serie Gewohnheit Alltag "
        "Schlaf Ernährung Gewicht Atmung Wärme Kälte Morgen Abend Wettkampf Marathon Halbmarathon"
    ).split(),
    "en": (
        "back spine disc muscle tendon ligament joint pelvis hip knee foot stride shoe cushioning "
        "load training rest recovery pain complaint strain posture core strength endurance stretch "
        "mobility study review survey result risk week minute distance pace interval hill surface "
        "road trail track runner practice physiotherapy GP exercise repetition set habit day sleep "
        "diet weight breathing warmth cold morning evening race marathon half-marathon plan"
    ).split(),
}
VERBS = {
    "de": "hilft schützt entlastet stärkt beeinflusst verändert verringert erhöht begleitet unterstützt".split(),
    "en": "helps protects relieves strengthens affects changes reduces raises accompanies supports".split(),
}
GLUE = {
    "de": "der die das ein eine mit ohne nach vor bei und oder aber oft meist selten deutlich kaum".split(),
    "en": "the a an with without after before during and or but often mostly rarely clearly hardly".split(),
}
HEADINGS = {
    "de": ("Was dahintersteckt", "Typische Anzeichen", "Was die Forschung sagt", "So gehst du vor",
           "Übungen für zu Hause", "Häufige Fehler", "Wann du pausieren solltest", "Ausrüstung",
           "Im Training", "Nach dem Lauf", "Für Einsteigerinnen und Einsteiger", "Für Erfahrene",
           "Zusammenfassung", "Weiterlesen", "Alltag und Beruf", "Schlaf und Erholung"),
    "en": ("What is behind it", "Typical signs", "What the research says", "How to go about it",
           "Exercises at home", "Common mistakes", "When to take a break", "Kit",
           "During training", "After your run", "For beginners", "For experienced runners",
           "Summary", "Further reading", "Work and everyday life", "Sleep and recovery"),
}
LABELS = {
    "de": {"home": "Rückenschmerzen beim Laufen", "about": "Über uns", "imprint": "Impressum",
           "category": "Bereich", "topic": "Thema", "article": "Artikel", "read": "Mehr dazu",
           "care": "Geh in den nächsten Tagen zur Hausarztpraxis, wenn:", "note": "Gut zu wissen",
           "table": ("Woche", "Umfang", "Hinweis"), "alt": "Unterarmstütz: Körper in einer Linie",
           "reviewer": "Dr. med. Erika Muster, Orthopädin", "related": "Siehe auch"},
    "en": {"home": "Back pain when running", "about": "About us", "imprint": "Imprint",
           "category": "Area", "topic": "Topic", "article": "Article", "read": "Read more",
           "care": "See a GP in the next few days if:", "note": "Good to know",
           "table": ("Week", "Volume", "Note"), "alt": "Plank: body in one line from head to heels",
           "reviewer": "Dr Jane Example, physiotherapist", "related": "See also"},
}


@dataclass(frozen=True)
class Plan:
    """Where every page sits; computed before any text so links can point anywhere."""

    n: int
    topics: int
    sources: int

    def topic_of(self, i: int) -> int:
        return i // ARTICLES_PER_TOPIC if self.topics > 1 else 0

    def category_of_topic(self, t: int) -> int:
        return t % CATEGORIES

    def category_slug(self, lang: str, c: int) -> str:
        return f"{'bereich' if lang == 'de' else 'area'}-{c + 1}"

    def topic_slug(self, lang: str, t: int) -> str:
        return f"{'thema' if lang == 'de' else 'topic'}-{t + 1}"

    def article_slug(self, lang: str, i: int) -> str:
        word = slugify(WORDS[_v(lang)][i % len(WORDS[_v(lang)])])
        return f"{word}-{i + 1}"

    def category_file(self, lang: str, c: int) -> str:
        return f"{lang}/{self.category_slug(lang, c)}.md"

    def topic_file(self, lang: str, t: int) -> str:
        return f"{lang}/{self.category_slug(lang, self.category_of_topic(t))}/{self.topic_slug(lang, t)}.md"

    def article_file(self, lang: str, i: int) -> str:
        t = self.topic_of(i)
        c = self.category_of_topic(t)
        return f"{lang}/{self.category_slug(lang, c)}/{self.topic_slug(lang, t)}/{self.article_slug(lang, i)}.md"

    def headings(self, lang: str, i: int) -> list[tuple[int, str, str]]:
        """(level, text, id) of article i's headings; every third one pins its id."""
        rng = random.Random(f"headings-{i}")
        names = list(range(len(HEADINGS[_v(lang)])))
        rng.shuffle(names)
        out: list[tuple[int, str, str]] = []
        for k, h in enumerate(names[: 4 + i % 4]):
            text = HEADINGS[_v(lang)][h]
            out.append((2, text, f"part-{h}" if k % 3 == 0 else slugify(text)))
            if k % 2 == 1:
                sub = f"{HEADINGS[_v(lang)][(h + 5) % len(HEADINGS[_v(lang)])]} {k}"
                out.append((3, sub, slugify(sub)))
        return out


def _rel_link(from_file: str, to_file: str) -> str:
    return posixpath.relpath(to_file, posixpath.dirname(from_file))


class Writer:
    """Text for one language. `rng` decides everything a translation keeps (lengths,
    numbers, emphasis, where links and citations go) and is seeded alike in every
    language; `words` picks the words, per language. So the versions of a page are
    translations of each other, as the translation check expects."""

    def __init__(self, lang: str, rng: random.Random, words: random.Random):
        self.lang, self.rng, self.words = lang, rng, words
        self.written = 0  # words written so far, counted alike in every language

    def sentence(self, words: int | None = None, plain: bool = False) -> str:
        """A sentence; unless plain, with some quotes, emphasis and a percentage."""
        rng, lang = self.rng, self.lang
        count = words or rng.randint(8, 18)
        self.written += count
        parts = []
        for k in range(count):
            pool = WORDS[_v(lang)] if k % 3 != 1 else (VERBS[_v(lang)] if k == 1 else GLUE[_v(lang)])
            parts.append(self.words.choice(pool))
        if plain:
            text = " ".join(parts)
            return text[0].upper() + text[1:] + "."
        if rng.random() < 0.15:
            parts[-1] = f'"{parts[-1]}"'
        if rng.random() < 0.2:
            j = rng.randrange(len(parts))
            parts[j] = f"**{parts[j]}**" if rng.random() < 0.5 else f"*{parts[j]}*"
        if rng.random() < 0.1:
            parts.append(f"({rng.randint(2, 95)} %)" if lang == "de" else f"({rng.randint(2, 95)}%)")
        text = " ".join(parts)
        return text[0].upper() + text[1:] + "."

    def paragraph(self, extra: list[str] = ()) -> str:
        sentences = [self.sentence() for _ in range(self.rng.randint(3, 6))]
        for item in extra:
            j = self.rng.randrange(len(sentences))
            sentences[j] = sentences[j][:-1] + f" {item}."
        return " ".join(sentences)


def _front_matter(fields: dict[str, object]) -> str:
    lines = ["---"]
    for key, value in fields.items():
        # Quoted unless plainly a word or path: a digest of digits alone would be read as a number.
        if isinstance(value, str) and (not re.fullmatch(r"[a-z0-9/-]+", value) or value.isdigit()):
            value = '"' + value.replace('"', '\\"') + '"'
        lines.append(f"{key}: {value}")
    return "\n".join(lines + ["---", ""])


def _article(plan: Plan, lang: str, i: int) -> str:
    rng = random.Random(f"article-{i}")
    w = Writer(lang, rng, random.Random(f"words-{lang}-{i}"))
    me = plan.article_file(lang, i)
    labels = LABELS[_v(lang)]
    published = dt.date(2024, 1, 1) + dt.timedelta(days=i % 700)
    reviewed = dt.date(2026, 6, 1) + dt.timedelta(days=i % 150)
    position = i % ARTICLES_PER_TOPIC + 1
    fields: dict[str, object] = {
        "title": f"{w.sentence(4, plain=True)[:-1]} ({i + 1})",
        "description": w.sentence(14, plain=True),
        "key": f"article-{i + 1}",
        "slug": plan.article_file(lang, i)[len(lang) + 1 : -3],
        "layout": "article",
        "parent": f"topic-{plan.topic_of(i) + 1}",
        "nav": position,
        "published": published.isoformat(),
        "about": "Low back pain",
    }

    def cite() -> str:
        keys = sorted({f"src-{rng.randrange(plan.sources) + 1}" for _ in range(rng.randint(1, 2))})
        return "[" + "; ".join(f"@{k}" for k in keys) + "]"

    def link() -> str:
        j = rng.randrange(plan.n)
        target = plan.article_file(lang, j)
        href = _rel_link(me, target)
        if rng.random() < 0.6:
            href += "#" + rng.choice(plan.headings(lang, j))[2]
        return f"[{labels['read']} {j + 1}]({href})"

    blocks = [w.paragraph([f"[@src-{i % plan.sources + 1}]", link()]), w.paragraph([cite()])]
    target_words = rng.randint(800, 1500)
    headings = plan.headings(lang, i)
    footnotes = 0
    for k, (level, text, hid) in enumerate(headings):
        pinned = "" if hid == slugify(text) else f" {{#{hid}}}"
        section = [f"{'#' * level} {text}{pinned}"]
        section.append(w.paragraph([link(), cite()] if k % 2 == 0 else [link()]))
        kind = (i + k) % 6
        if kind == 0:
            section.append("\n".join(f"- {w.sentence(rng.randint(5, 12))}" for _ in range(rng.randint(3, 6))))
        elif kind == 1:
            section.append("\n".join(f"{n}. {w.sentence(rng.randint(5, 12))}" for n in range(1, rng.randint(4, 7))))
        elif kind == 2:
            head = labels["table"]
            rows = [f"| {head[0]} | {head[1]} | {head[2]} |", "|---|---:|---|"]
            rows += [f"| {r} | {rng.randint(5, 60)} km | {w.sentence(5)[:-1]} |" for r in range(1, 5)]
            section.append("\n".join(rows))
        elif kind == 3:
            kind_name = "note" if rng.random() < 0.6 else "warning"
            title = f" {labels['note']}" if kind_name == "note" else ""
            section.append(f"::: {kind_name}{title}\n{w.paragraph()}\n:::")
        elif kind == 4:
            footnotes += 1
            section.append(w.paragraph([f"[^{footnotes}]"]))
        elif kind == 5 and i % 5 == 0:
            bullets = "\n".join(f"- {w.sentence(rng.randint(4, 9))[:-1].lower()}" for _ in range(rng.randint(2, 5)))
            section.append(f"::: care doctor\n### {labels['care']}\n{bullets}\n\n{w.paragraph()}\n:::")
        else:
            section.append(f"![{labels['alt']}](assets/img/plank.svg)")
        while w.written < target_words * (k + 1) / len(headings):
            extra = ["[NHS](https://www.nhs.uk/conditions/back-pain/)"] if rng.random() < 0.1 else []
            section.append(w.paragraph(extra))
        blocks.extend(section)
    # Every article says where to get help: here, a link to the page site.yaml names for it.
    blocks.append(f"{labels['related']}: " + ", ".join(link() for _ in range(3))
                  + f", [{labels['home']}]({_rel_link(me, f'{lang}/index.md')}).")
    for f in range(1, footnotes + 1):
        blocks.append(f"[^{f}]: {w.sentence(10)}")
    body = "\n" + "\n\n".join(blocks) + "\n"
    # As in a real guide: most articles reviewed as they stand, some changed since their
    # review, some never reviewed.
    if i % 6 < 5:
        digest = page_digest(str(fields["title"]), str(fields["description"]), body if i % 6 < 4 else "")
        fields.update({"reviewer": labels["reviewer"], "last_reviewed": reviewed.isoformat(),
                       "next_review": (reviewed + dt.timedelta(days=730)).isoformat(), "review_digest": digest})
    return _front_matter(fields) + body


def _page(fields: dict[str, object], body: str) -> str:
    return _front_matter(fields) + "\n" + body + "\n"


def _structure(plan: Plan, lang: str) -> dict[str, str]:
    """Home, about, imprint, categories and topics: the frame the articles hang in."""
    labels = LABELS[_v(lang)]
    w = Writer(lang, random.Random("structure"), random.Random(f"structure-{lang}"))
    files: dict[str, str] = {}
    cats = [c for c in range(CATEGORIES) if any(plan.category_of_topic(t) == c for t in range(plan.topics))]
    home_links = "\n".join(f"- [{labels['category']} {c + 1}]({plan.category_file(lang, c)[3:]})" for c in cats)
    files[f"{lang}/index.md"] = _page(
        {"title": labels["home"], "description": w.sentence(12, plain=True), "key": "home", "slug": "", "layout": "home"},
        f"{w.paragraph()}\n\n## {labels['category']} {{#areas}}\n\n{home_links}\n\n{w.paragraph()}",
    )
    files[f"{lang}/about.md"] = _page(
        {"title": labels["about"], "description": w.sentence(12, plain=True), "key": "about",
         "slug": "ueber-uns" if lang == "de" else "about"},
        f"{w.paragraph()}\n\n## {labels['note']}\n\n{w.paragraph()}",
    )
    files[f"{lang}/imprint.md"] = _page(
        {"title": labels["imprint"], "description": w.sentence(12, plain=True), "key": "imprint",
         "slug": "impressum" if lang == "de" else "imprint"},
        f"{w.paragraph()}\n\n::: publisher\n:::\n",
    )
    for c in cats:
        me = plan.category_file(lang, c)
        topics = [t for t in range(plan.topics) if plan.category_of_topic(t) == c]
        links = "\n".join(f"- [{labels['topic']} {t + 1}]({_rel_link(me, plan.topic_file(lang, t))})" for t in topics)
        files[me] = _page(
            {"title": f"{labels['category']} {c + 1}", "description": w.sentence(12, plain=True), "key": f"category-{c + 1}",
             "slug": plan.category_slug(lang, c), "nav": c + 1},
            f"{w.paragraph()}\n\n{links}\n",
        )
    for t in range(plan.topics):
        me = plan.topic_file(lang, t)
        articles = [i for i in range(plan.n) if plan.topic_of(i) == t]
        links = "\n".join(f"- [{labels['article']} {i + 1}]({_rel_link(me, plan.article_file(lang, i))})" for i in articles)
        files[me] = _page(
            {"title": f"{labels['topic']} {t + 1}", "description": w.sentence(12, plain=True), "key": f"topic-{t + 1}",
             "slug": me[len(lang) + 1 : -3], "parent": f"category-{plan.category_of_topic(t) + 1}",
             "nav": t // CATEGORIES + 1},
            f"{w.paragraph()}\n\n{links}\n",
        )
    return files


def _sources(plan: Plan) -> str:
    rng = random.Random("sources")
    lines = ["# Generated bibliography: every key is cited by at least one article."]
    for s in range(1, plan.sources + 1):
        authors = ", ".join(f"{rng.choice(['Meyer', 'Smith', 'Nielsen', 'Wu', 'Rossi', 'Kowalski'])} {chr(65 + rng.randrange(26))}"
                            for _ in range(rng.randint(1, 8)))
        lines += [
            f"src-{s}:",
            f"  authors: [{authors}]",
            f'  title: "Running and low back pain: study {s}"',
            "  journal: Journal of Synthetic Sports Medicine",
            f"  year: {2000 + s % 25}",
            f'  details: "{s % 40 + 1}({s % 12 + 1}):{s}-{s + 9}"',
            f"  doi: 10.5555/bench.{s}",
        ]
    return "\n".join(lines) + "\n"


def _site_yaml(langs: tuple[str, ...]) -> str:
    text = (REPO / "site.yaml").read_text("utf-8")
    start = text.index("footer:")
    end = text.index("\n", start)
    text = text[:start] + "footer: [about, imprint]" + text[end:]
    text = text.replace("care_page: see-a-doctor", "care_page: home")
    extra = "".join(
        f"  - code: {code}\n    locale: {EXTRA_LANGUAGES[code][0]}\n    title: Back pain when running ({code})\n"
        f'    emergency: "112"\n    urgent: "116 117"\n    quotes: {json.dumps(list(EXTRA_LANGUAGES[code][1]), ensure_ascii=False)}\n'
        for code in langs if code in EXTRA_LANGUAGES)
    marker = "# The page that says when to see a doctor"
    return text.replace(marker, extra + marker, 1)


def _catalog(root: Path, code: str) -> None:
    """An extra language's interface strings: the English ones, under its own locale's plural rules."""
    from babel.messages.pofile import read_po, write_po

    with (root / "translations/en/LC_MESSAGES/messages.po").open("rb") as fp:
        english = read_po(fp, locale="en")
    catalog = Catalog(locale=EXTRA_LANGUAGES[code][0])
    for message in english:
        if message.id:
            string = message.string if isinstance(message.id, str) else tuple(
                message.string[min(i, len(message.string) - 1)] for i in range(Catalog(locale=EXTRA_LANGUAGES[code][0]).num_plurals))
            catalog.add(message.id, string, flags=message.flags - {"fuzzy"})
    target = root / f"translations/{code}/LC_MESSAGES/messages.po"
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as fp:
        write_po(fp, catalog)


def generate(root: Path, n: int, langs: tuple[str, ...] = LANGS) -> Path:
    """Write the corpus for `n` articles per language into `root` (replacing what was there)."""
    plan = Plan(n=n, topics=max(1, -(-n // ARTICLES_PER_TOPIC)), sources=max(10, n // 10))
    content = root / "content"
    for part in ("content", *COPIED):
        target = root / part
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    files: dict[str, str] = {}
    for lang in langs:
        files.update(_structure(plan, lang))
        for i in range(n):
            files[plan.article_file(lang, i)] = _article(plan, lang, i)
    for rel, text in files.items():
        path = content / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
    (content / "sources.yaml").write_text(_sources(plan), "utf-8")
    (root / "site.yaml").write_text(_site_yaml(langs), "utf-8")
    for part in COPIED:
        src = REPO / part
        if src.is_dir():
            shutil.copytree(src, root / part)
        else:
            shutil.copy2(src, root / part)
    for code in langs:
        if code in EXTRA_LANGUAGES:
            _catalog(root, code)
    return root


def article_path(root: Path, n: int, i: int, lang: str = "de") -> Path:
    """The file of article i: what the benchmark edits for a one-article rebuild."""
    plan = Plan(n=n, topics=max(1, -(-n // ARTICLES_PER_TOPIC)), sources=max(10, n // 10))
    return root / "content" / plan.article_file(lang, i)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100, help="articles per language")
    parser.add_argument("--languages", type=int, default=2, help=f"how many languages, up to {len(LANGS) + len(EXTRA_LANGUAGES)}")
    parser.add_argument("--out", type=Path, required=True, help="folder to write the project into")
    args = parser.parse_args(argv)
    generate(args.out, args.n, languages(args.languages))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

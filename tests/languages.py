"""A site in four languages for the language tests: German (the default), English, Arabic
(right to left) and French (live with its home page only), made the way the README's
"Adding a language" says: an entry in site.yaml, `pybabel init` for the catalog, pages."""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

from robustness import make_small_site
from guidesite.scaffold import mark_reviewed

PYBABEL = Path(sys.executable).parent / "pybabel"
LANGUAGES = """  - code: ar
    locale: ar
    title: آلام الظهر عند الجري
    emergency: "112"
    urgent: "116 117"
    quotes: ”“’‘
    partial: true
  - code: fr
    locale: fr_FR
    title: Mal de dos et course à pied
    emergency: "112"
    urgent: "116 117"
    quotes: ["«\u202f", "\u202f»", "“", "”"]
    partial: true
"""

ARABIC_HOME = """---
title: الصفحة الرئيسية
description: الصفحة الرئيسية للموقع التجريبي.
key: home
slug: ""
layout: home
---

فقرة فيها "اقتباس" ورابط إلى [صفحة](seite.md#abschnitt) و[مقال](artikel.md) مع مصدر [@known2020].

رابط إلى صفحة لم تُترجم بعد: [صفحة بالألمانية](../de/nur-deutsch.md).
"""

ARABIC_PAGE = """---
title: صفحة
description: صفحة فيها مصدر.
key: page
slug: seite
nav: 1
---

فقرة فيها مصدر [@known2020] وكلمة [Rücken]{lang=de}.

## قسم {#abschnitt}

[رابط إلى القسم](#abschnitt).
"""

ARABIC_ARTICLE = """---
title: مقال
description: مقال للاختبار.
key: article
slug: artikel
layout: article
published: 2026-01-01
---

يقول النص "كلاماً" بنسبة 4.5 ٪.

::: note
ملاحظة.
:::

## متى تطلب المساعدة {#help}

::: care emergency
### اتصل فوراً بالرقم [112](tel:112) إذا:
- خدر في الساقين
:::
"""

FRENCH_HOME = """---
title: Accueil
description: La page d'accueil du site de test.
key: home
slug: ""
layout: home
---

Un paragraphe avec une "citation", un lien vers une [page en allemand](../de/seite.md) et une source [@known2020].
"""

GERMAN_ONLY = """---
title: Nur auf Deutsch
description: Eine Seite, die es nur auf Deutsch gibt.
key: german-only
slug: nur-deutsch
nav: 2
---

Text.
"""

GERMAN_ARTICLE = """---
title: Artikel
description: Ein Artikel zum Testen.
key: article
slug: artikel
layout: article
published: 2026-01-01
---

Der Text sagt "etwas" mit 4,5 %.

::: note
Eine Notiz.
:::

## Wann du Hilfe brauchst {#help}

::: care emergency
### Ruf sofort die [112](tel:112) an, wenn:
- die Beine taub werden
:::
"""


def make_four_language_site(target: Path) -> Path:
    root = make_small_site(target)
    config = root / "site.yaml"
    text = config.read_text("utf-8")
    config.write_text(_with_languages(text), "utf-8")
    for rel, page in (("ar/index.md", ARABIC_HOME), ("ar/seite.md", ARABIC_PAGE), ("ar/artikel.md", ARABIC_ARTICLE),
                      ("fr/index.md", FRENCH_HOME), ("de/nur-deutsch.md", GERMAN_ONLY), ("de/artikel.md", GERMAN_ARTICLE)):
        path = root / "content" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page, "utf-8")
    for code in ("ar", "fr"):
        # The README's command; then every entry "translated" (here: the English text), since
        # the build refuses a live language with an untranslated interface string.
        subprocess.run([str(PYBABEL), "-q", "init", "-i", "translations/messages.pot", "-d", "translations", "-l", code],
                       cwd=root, check=True, capture_output=True)
        _fill(root / f"translations/{code}/LC_MESSAGES/messages.po", code)
    mark_reviewed(root, "content/ar/artikel.md", "د. سارة مثال", today=dt.date(2026, 12, 3), day=dt.date(2026, 3, 19))
    return root


def _with_languages(text: str) -> str:
    head, tail = text.split("# The page that says when to see a doctor", 1)
    return head.rstrip("\n") + "\n" + LANGUAGES + "# The page that says when to see a doctor" + tail


# A few strings the pages' own text must agree with (a care card's heading ends with "if:").
OWN_WORDS = {"ar": {"if:": "إذا:"}, "fr": {"if:": "si :"}}


def _fill(path: Path, code: str) -> None:
    with path.open("rb") as fp:
        catalog = read_po(fp, locale=code)
    for message in catalog:
        if message.id in OWN_WORDS[code]:
            message.string = OWN_WORDS[code][message.id]
        elif message.id and not message.string:
            message.string = message.id if isinstance(message.id, str) else tuple(
                message.id[min(i, 1)] for i in range(catalog.num_plurals))
    with path.open("wb") as fp:
        write_po(fp, catalog)

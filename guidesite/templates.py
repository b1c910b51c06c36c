"""Rendering pages through the Jinja templates: one environment per language, plain data in."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from babel.support import Translations
from jinja2 import (BytecodeCache, Environment, FileSystemLoader, StrictUndefined, TemplateError, TemplateRuntimeError,
                    TemplateSyntaxError, pass_context, select_autoescape)
from jinja2.runtime import Context
from markupsafe import Markup

from .a_z import a_z_context, a_z_output, a_z_path, a_z_url
from .assets import AssetMap, MissingAsset
from .bodies import Body
from .config import phone_digits
from .errors import ErrorList
from .i18n import LocaleFormat, text_direction
from .manifest import manifest_path, web_manifests
from .placeholders import is_placeholder
from .search import SEARCH_DIR
from .site import Entry, Site, robots_txt, sitemap_urls

TEMPLATES_DIR = "templates"
TOC_MIN_HEADINGS = 3


_DICT_ATTRIBUTES = frozenset(dir(dict))


class _Environment(Environment):
    """Jinja's environment, reading the plain dicts of page_context without an exception each.

    `page.title` on a dict first tries the attribute, which raises AttributeError, and only
    then the key: a page reads some two hundred such values. Where the dict has the key and
    no attribute of that name, the key is what Jinja would return anyway.
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)


def make_environment(root: Path, lang: str, translations: Translations, assets: AssetMap, site: Site,
                     bytecode_cache: BytecodeCache | None = None) -> Environment:
    env = _Environment(
        loader=FileSystemLoader(root / TEMPLATES_DIR),
        bytecode_cache=bytecode_cache,
        auto_reload=False,  # one build, one version of the templates: no stat per include
        autoescape=select_autoescape(["html", "xml"]),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.policies["ext.i18n.trimmed"] = True  # must match babel.cfg
    # `tojson` (the JSON-LD): keys in a stable order, and text as the page has it (UTF-8), not as \u escapes.
    env.policies["json.dumps_kwargs"] = {"sort_keys": True, "ensure_ascii": False}
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    _remember_messages(env, lang)
    fmt = LocaleFormat(site.config.language(lang).locale)
    env.globals.update(asset=assets.url, fmt=fmt, dir_of=text_direction)
    return env


def _remember_messages(env: Environment, lang: str) -> None:
    """Translate each interface string once per build instead of on every page.

    A page asks for some twenty strings, each time through Jinja's gettext (a catalog
    lookup, Markup, formatting). Without variables the result depends only on the string
    and on whether autoescaping is on, so it is kept and reused as it is.
    """
    translate = env.globals["gettext"]
    known: dict[tuple[str, bool], str] = {}

    def checked(context: Context, message: str, **variables: Any) -> str:
        try:
            return translate(context, message, **variables)
        except (KeyError, TypeError, ValueError) as exc:
            # Jinja fills every translation in with %, placeholders or not: "100 %" breaks it.
            raise TemplateRuntimeError(
                f"the '{lang}' translation of {message!r} in translations/{lang}/LC_MESSAGES/messages.po has a % "
                f"that is not a placeholder ({exc}): write %% for a percent sign") from None

    @pass_context
    def gettext(context: Context, message: str, **variables: Any) -> str:
        if variables:
            return checked(context, message, **variables)
        key = (message, context.eval_ctx.autoescape)
        if key not in known:
            known[key] = checked(context, message)
        return known[key]

    # `_` is Jinja's alias that looks gettext up on every call: it is the same function.
    env.globals.update(gettext=gettext, _=gettext)


def _link(entry: Entry) -> dict[str, str]:
    return {"title": entry.page.meta.title, "path": entry.path, "lang": entry.lang}


def _footer(site: Site, lang: str) -> list[dict[str, str]]:
    """The links of the footer (site.yaml's `footer` keys) in one language."""
    return [_link(entry) for key in site.config.footer if (entry := site.in_language(lang, key))]


def _nav_link(entry: Entry) -> dict[str, str]:
    """Menus and breadcrumbs use the short title where the editor gave one."""
    return dict(_link(entry), title=entry.page.meta.short_title or entry.page.meta.title)


def page_context(site: Site, entry: Entry, body: Body, fmt: LocaleFormat, gettext) -> dict[str, Any]:
    """Everything a template may show about one page, as plain data."""
    meta = entry.page.meta
    lang = entry.lang
    translations = site.translations(entry)
    default = site.by_key.get((site.config.default_language, entry.key), entry)
    x_default = site.config.base_url if entry.key == "home" else site.url(default)
    switcher = []
    for code in site.config.codes:
        if code == lang:
            continue
        other = site.by_key.get((code, entry.key))
        target = other or site.home(code)
        switcher.append({
            "lang": code,
            "name": fmt.language_name(code),
            "path": target.path,
            "translated": other is not None,
        })
    prev, nxt = site.siblings(entry)
    current_trail = {e.key for e in site.breadcrumb(entry)}
    menu = [dict(_nav_link(e), current=e.key in current_trail) for e in site.menu(lang)]
    headings = [h for h in body.headings if h.level == 2]
    json_ld = _json_ld(site, entry, body) if meta.layout == "article" else None
    source = site.changed_source(entry)
    outdated = {"path": source.path, "lang": source.lang, "name": fmt.language_name(source.lang)} if source else None
    return {
        "page": {
            "title": meta.title,
            "description": meta.description,
            "key": entry.key,
            "layout": meta.layout,
            "lang": lang,
            "path": entry.path,
            "url": site.url(entry),
            "html": body.html,
            "toc": [{"id": h.id, "text": h.text} for h in headings] if len(headings) >= TOC_MIN_HEADINGS else [],
            "draft": meta.draft,
            "outdated": outdated,  # the changed original of this translation, for a notice
            "published": meta.published,
            "review": {"state": entry.page.review_state, "by": meta.reviewer,
                       "date": meta.last_reviewed, "next": meta.next_review},
            "sources": [
                {"key": s.key, "authors": s.author_line, "title": s.title, "journal": s.journal,
                 "year": s.year, "details": s.details, "link": s.link, "doi": s.doi, "lang": s.language,
                 "updated": s.updated, "checked": s.checked}
                for s in body.citations
            ],
            "json_ld": json_ld,
        },
        "alternates": [{"lang": e.lang, "url": site.url(e)} for e in translations] + [{"lang": "x-default", "url": x_default}],
        "switcher": switcher,
        "menu": menu,
        "breadcrumb": [_nav_link(e) for e in site.breadcrumb(entry)],
        "prev": _link(prev) if prev else None,
        "next": _link(nxt) if nxt else None,
        "footer": _footer(site, lang),
        "site": _site_context(site, lang),
    }


def _phone_link(number: str) -> Markup:
    """'NHS 111' -> a link a reader on a phone can tap to call 111."""
    return Markup('<a href="tel:{}">{}</a>').format(phone_digits(number), number)


def _site_context(site: Site, lang: str) -> dict[str, Any]:
    language = site.config.language(lang)
    return {
        "title": language.title,
        "dir": language.direction,
        "lang": lang,
        "home": site.home(lang).path,
        "base_path": site.config.base_path,
        "base_url": site.config.base_url,
        # A publisher still to be named is marked on the legal pages only, never shown as a name.
        "publisher": None if is_placeholder(publisher := site.config.publisher["name"]) else publisher,
        "emergency": _phone_link(language.emergency),
        "urgent": _phone_link(language.urgent),
        "manifest": site.config.base_path + manifest_path(lang),
        "a_z": a_z_path(site, lang),
        "search_index": f"{site.config.base_path}{lang}/{SEARCH_DIR}/pagefind.js",
    }


def _json_ld(site: Site, entry: Entry, body: Body) -> dict[str, Any]:
    """schema.org MedicalWebPage, as data: the template writes it with Jinja's `tojson`, which
    escapes <, >, & and ' so that a crafted title cannot close the <script> element."""
    meta = entry.page.meta
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "MedicalWebPage",
        "name": meta.title,
        "description": meta.description,
        "url": site.url(entry),
        "inLanguage": entry.lang,
        "medicalAudience": {"@type": "MedicalAudience", "audienceType": "Patient"},
    }
    if not is_placeholder(publisher := site.config.publisher["name"]):
        data["publisher"] = {"@type": "Organization", "name": publisher}
    if meta.published:
        data["datePublished"] = meta.published.isoformat()
    if entry.page.review_state == "reviewed":  # never a review that did not happen, or of other text
        assert meta.last_reviewed and meta.reviewer
        data["lastReviewed"] = meta.last_reviewed.isoformat()
        data["reviewedBy"] = {"@type": "Person", "name": meta.reviewer}
    if meta.about:
        data["about"] = {"@type": "MedicalCondition", "name": meta.about}
    if body.citations:
        data["citation"] = [
            {"@type": "ScholarlyArticle", "name": s.title, "author": s.author_line,
             **({"datePublished": str(s.year)} if s.year else {}),
             **({"url": s.link} if s.link else {})}
            for s in body.citations
        ]
    return data


class Templates:
    """The Jinja environments, one per language, made once per build and used for every page."""

    def __init__(self, site: Site, translations: dict[str, Translations], assets: AssetMap,
                 bytecode_cache: BytecodeCache | None = None):
        self.site, self.translations, self.assets = site, translations, assets
        root = site.config.root
        with _template_errors(root):
            self.envs = {code: make_environment(root, code, translations[code], assets, site, bytecode_cache) for code in site.config.codes}
            # language -> the disclaimer HTML every page must contain
            self.disclaimers = {code: self._disclaimer(code, site) for code in self.envs}

    def _disclaimer(self, code: str, site: Site, anchor: bool = True) -> Markup:
        """The disclaimer in one language; only one on a page may carry the id #disclaimer."""
        template = self.envs[code].get_template("partials/disclaimer.html")
        return Markup(template.render(site=_site_context(site, code), anchor=anchor))

    def _legal_links(self, code: str, site: Site) -> dict[str, Any]:
        """The footer's links in one language, for a page shared by all languages."""
        gettext = self.translations[code].gettext
        return {"lang": code, "label": gettext("Legal and about"), "links": _footer(site, code),
                "a_z": a_z_path(site, code), "a_z_label": gettext("All pages A–Z")}

    def page(self, entry: Entry, body: Body, site: Site | None = None) -> str:
        """One page's HTML; a template error is a BuildError naming the template and line.

        `site` is the site as this page may see it (see BodyRenderer.render).
        """
        env = self.envs[entry.lang]
        context = page_context(site or self.site, entry, body, env.globals["fmt"], self.translations[entry.lang].gettext)
        with _template_errors(self.site.config.root):
            return env.get_template(f"{entry.page.meta.layout}.html").render(context)

    def extras(self, site: Site | None = None) -> dict[str, bytes]:
        """The files no page's source makes: 404 pages, the root chooser, sitemap, robots.txt, manifests."""
        site, envs = site or self.site, self.envs
        files: dict[str, bytes] = {}
        with _template_errors(site.config.root):
            for code, env in envs.items():
                context = _special_context(site, code, env.globals["fmt"])
                files[f"{code}/404.html"] = env.get_template("404.html").render(context).encode("utf-8")
                a_z = a_z_context(site, code, context, self.translations[code].gettext)
                files[a_z_output(code)] = env.get_template("a-z.html").render(a_z).encode("utf-8")
            default = site.config.default_language
            default_env = envs[default]
            languages = [
                {"lang": code, "dir": site.config.language(code).direction,
                 "name": envs[code].globals["fmt"].language_name(code), "path": site.home(code).path,
                 "title": site.config.language(code).title,
                 "not_found": self.translations[code].gettext("This page does not exist, or it has moved.")}
                for code in site.config.codes
            ]
            # The pages at the root are every language's: whoever arrives there, from any
            # country, finds the disclaimer and the legal pages in their language too.
            others = {"other_disclaimers": [self._disclaimer(code, site, anchor=False) for code in site.config.codes if code != default],
                      "other_footers": [self._legal_links(code, site) for code in site.config.codes if code != default]}
            chooser = {"languages": languages, "site": _site_context(site, default),
                       "footer": _footer(site, default), **others}
            files["index.html"] = default_env.get_template("chooser.html").render(chooser).encode("utf-8")
            root_404 = dict(_special_context(site, default, default_env.globals["fmt"]), languages=languages, **others)
            files["404.html"] = default_env.get_template("404.html").render(root_404).encode("utf-8")
            a_z = {code: a_z_url(site, code) for code in site.config.codes}
            sitemap = default_env.get_template("sitemap.xml").render(urls=sitemap_urls(site, (a_z,)))
            files["sitemap.xml"] = sitemap.encode("utf-8")
            files["robots.txt"] = robots_txt(site).encode("utf-8")
            files.update(web_manifests(site, self.assets, self.translations))  # may miss an icon: MissingAsset
        return files


@contextlib.contextmanager
def _template_errors(root: Path) -> Iterator[None]:
    """Turn a Jinja error into a BuildError with the template's file and line."""
    errors = ErrorList(root)
    try:
        yield
    except TemplateSyntaxError as exc:
        errors.add(Path(exc.filename or root / TEMPLATES_DIR / str(exc.name)), exc.lineno, f"template error: {exc.message}")
    except TemplateError as exc:
        line, name = _template_location(exc)
        errors.add(root / TEMPLATES_DIR / name, line, f"template error: {exc}")
    except MissingAsset as exc:
        line, name = _template_location(exc)
        # Outside a template, the web manifest asked for one of its icons.
        where = (root / TEMPLATES_DIR / name, line) if name != "?" else (root / "assets", 1)
        errors.add(*where, f"{exc}" if name == "?" else f"template error: asset(): {exc}")
    except (ArithmeticError, LookupError, TypeError, ValueError) as exc:
        # What an expression in a template can raise at run time ({{ 1 / 0 }}, a "%" a
        # translation did not double): the template's line, not a traceback.
        line, name = _template_location(exc)
        if name == "?":
            raise  # not from a template: a bug of the generator's own, to be seen as one
        errors.add(root / TEMPLATES_DIR / name, line, f"template error: {type(exc).__name__}: {exc}")
    errors.raise_if_any()


def _special_context(site: Site, lang: str, fmt: LocaleFormat) -> dict[str, Any]:
    """Context for pages without a source file (404): the same frame as every page."""
    home = site.home(lang)
    # The other language's own "page not found": the switcher leads to the same page there.
    switcher = [
        {"lang": code, "name": fmt.language_name(code), "path": f"{site.config.base_path}{code}/404.html", "translated": True}
        for code in site.config.codes if code != lang
    ]
    return {
        "page": {"title": "", "lang": lang, "path": f"{site.config.base_path}{lang}/404.html", "layout": "404", "draft": False},
        "alternates": [],
        "switcher": switcher,
        "menu": [dict(_nav_link(e), current=False) for e in site.menu(lang)],
        "breadcrumb": [],
        "prev": None,
        "next": None,
        "footer": _footer(site, lang),
        "site": _site_context(site, lang),
        "languages": [],
        "home": _link(home),
    }


def _template_location(exc: BaseException) -> tuple[int, str]:
    """Find the template file and line in a runtime error's traceback."""
    tb = exc.__traceback__
    found = (1, "?")
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if f"/{TEMPLATES_DIR}/" in filename and filename.endswith((".html", ".xml")):
            found = (tb.tb_lineno, filename.rsplit(f"/{TEMPLATES_DIR}/", 1)[1])
        tb = tb.tb_next
    return found

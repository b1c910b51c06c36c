"""Static files from assets/: CSS and JavaScript minified, each under a name carrying a digest of its content."""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import rcssmin
import rjsmin

from .errors import ErrorList

ASSETS_DIR = "assets"


class MissingAsset(LookupError):
    """A template or the manifest asked for a file assets/ does not have."""

    def __init__(self, name: str):
        super().__init__(f"there is no file {ASSETS_DIR}/{name}")


# rcssmin/rjsmin rather than regexes of our own: they keep what a naive minifier breaks
# (the spaces in calc(1px + 2px), strings, JavaScript regex literals and semicolon-less lines).
_MINIFIERS: dict[str, Callable[[str], str]] = {".css": rcssmin.cssmin, ".js": rjsmin.jsmin}


@dataclass(frozen=True)
class Asset:
    source: Path
    output: str  # "assets/css/site.1a2b3c4d5e.css", relative to site/
    data: bytes  # what is written: the file itself, or its minified form


@dataclass(frozen=True)
class AssetMap:
    base_path: str
    assets: dict[str, Asset]  # "css/site.css" -> Asset

    def url(self, name: str) -> str:
        """The fingerprinted URL of assets/<name>."""
        asset = self.assets.get(name)
        if asset is None:
            raise MissingAsset(name)
        return self.base_path + asset.output


def collect_assets(root: Path, base_path: str) -> AssetMap:
    """Every file in assets/; raises BuildError for a CSS or JavaScript file that is not UTF-8."""
    folder = root / ASSETS_DIR
    assets: dict[str, Asset] = {}
    errors = ErrorList(root)
    for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
        if not path.is_file() or path.name.startswith("."):
            continue
        name = path.relative_to(folder).as_posix()
        raw = path.read_bytes()
        try:
            data = minify(path.suffix, raw)
        except UnicodeDecodeError as exc:
            errors.add(path, raw.count(b"\n", 0, exc.start) + 1, f"not UTF-8 text (byte {exc.start}): save the file as UTF-8")
            continue
        digest = hashlib.sha256(data).hexdigest()[:10]
        stem, dot, suffix = path.name.partition(".")
        hashed = f"{stem}.{digest}{dot}{suffix}" if dot else f"{stem}.{digest}"
        parent = Path(name).parent.as_posix()
        out = f"{ASSETS_DIR}/{parent + '/' if parent != '.' else ''}{hashed}"
        assets[name] = Asset(path, out, data)
    errors.raise_if_any()
    return AssetMap(base_path, assets)


def minify(suffix: str, data: bytes) -> bytes:
    """The minified form of a CSS or JavaScript file; any other file unchanged."""
    minifier = _MINIFIERS.get(suffix.lower())
    if minifier is None:
        return data
    return minifier(data.decode("utf-8")).encode("utf-8")

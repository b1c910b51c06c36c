"""Static files from assets/: CSS and JavaScript minified, each under a name carrying a digest of its content."""
from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import rcssmin
import rjsmin

from .errors import ContentError, ErrorList

ASSETS_DIR = "assets"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".svg")
LARGE_IMAGE = 200_000  # bytes: above this, an image is slow on a phone's connection (a warning)


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
    size: tuple[int, int] | None = None  # an image's width and height in CSS pixels, if known


@dataclass(frozen=True)
class AssetMap:
    base_path: str
    assets: dict[str, Asset]  # "css/site.css" -> Asset
    warnings: tuple[ContentError, ...] = ()  # images too large to send to a phone

    def url(self, name: str) -> str:
        """The fingerprinted URL of assets/<name>."""
        asset = self.assets.get(name)
        if asset is None:
            raise MissingAsset(name)
        return self.base_path + asset.output


# How collect_assets measures images: memo(key, measure) returns measure() or, from the build
# cache, what it returned for the same key (a digest of every image's name and bytes).
SizesMemo = Callable[[str, Callable[[], dict[str, "tuple[int, int] | None"]]], dict[str, "tuple[int, int] | None"]]


def collect_assets(root: Path, base_path: str, memo: SizesMemo = lambda key, measure: measure()) -> AssetMap:
    """Every file in assets/; raises BuildError for a CSS or JavaScript file that is not UTF-8."""
    folder = root / ASSETS_DIR
    assets: dict[str, Asset] = {}
    images: dict[str, tuple[str, bytes]] = {}  # name -> suffix and bytes, measured after the loop
    warnings: list[ContentError] = []
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
        image = path.suffix.lower() in IMAGE_SUFFIXES
        assets[name] = Asset(path, out, data)
        if image:
            images[name] = (path.suffix, raw)
        if image and len(raw) > LARGE_IMAGE:
            warnings.append(ContentError(errors.rel(path), 1, f"the image is {_megabytes(len(raw))}, and every reader loads it, "
                                         f"on a phone too: make it smaller than {_megabytes(LARGE_IMAGE)} (a photo as JPEG "
                                         "or WebP, no wider than the page shows it)"))
    errors.raise_if_any()
    key = hashlib.sha256(b"".join(name.encode() + b"\0" + hashlib.sha256(raw).digest() for name, (_, raw) in images.items()))
    sizes = memo(key.hexdigest(), lambda: {name: image_size(suffix, raw) for name, (suffix, raw) in images.items()})
    for name, size in sizes.items():
        assets[name] = replace(assets[name], size=size)
    return AssetMap(base_path, assets, tuple(warnings))


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 1_000_000 else f"{size / 1000:.0f} KB"


_LENGTH = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:px)?\s*$")  # "320", "320px": not "100%" or "10em"


def image_size(suffix: str, data: bytes) -> tuple[int, int] | None:
    """Width and height from the file itself: an SVG's width and height or viewBox, a raster
    image's header (imagesize reads PNG, JPEG, GIF, WebP and more without decoding them)."""
    # Imported here, for sites with images: imagesize loads urllib.request (HTTP, SSL, email;
    # 19 ms of a build's start-up), ElementTree a few ms more.
    if suffix.lower() != ".svg":
        import imagesize

        width, height = imagesize.get(io.BytesIO(data))
        return (int(width), int(height)) if width > 0 and height > 0 else None
    import xml.etree.ElementTree as ElementTree

    try:  # the root element is all that is needed: stop at its start
        _, root = next(ElementTree.iterparse(io.BytesIO(data), events=("start",)))
    except (ElementTree.ParseError, StopIteration):
        return None
    width, height = (_LENGTH.match(root.get(name) or "") for name in ("width", "height"))
    if width and height:
        return round(float(width.group(1))), round(float(height.group(1)))
    box = (root.get("viewBox") or "").replace(",", " ").split()
    try:
        box_width, box_height = float(box[2]), float(box[3])
    except (IndexError, ValueError):
        return None
    return (round(box_width), round(box_height)) if box_width > 0 and box_height > 0 else None


def minify(suffix: str, data: bytes) -> bytes:
    """The minified form of a CSS or JavaScript file; any other file unchanged."""
    minifier = _MINIFIERS.get(suffix.lower())
    if minifier is None:
        return data
    return minifier(data.decode("utf-8")).encode("utf-8")

"""Static files from assets/, copied under names that carry a digest of their content."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

ASSETS_DIR = "assets"


@dataclass(frozen=True)
class Asset:
    source: Path
    output: str  # "assets/css/site.1a2b3c4d5e.css", relative to site/


@dataclass(frozen=True)
class AssetMap:
    base_path: str
    assets: dict[str, Asset]  # "css/site.css" -> Asset

    def url(self, name: str) -> str:
        """The fingerprinted URL of assets/<name>; KeyError names a missing asset."""
        return self.base_path + self.assets[name].output


def collect_assets(root: Path, base_path: str) -> AssetMap:
    folder = root / ASSETS_DIR
    assets: dict[str, Asset] = {}
    for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
        if not path.is_file() or path.name.startswith("."):
            continue
        name = path.relative_to(folder).as_posix()
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
        stem, dot, suffix = path.name.partition(".")
        hashed = f"{stem}.{digest}{dot}{suffix}" if dot else f"{stem}.{digest}"
        parent = Path(name).parent.as_posix()
        out = f"{ASSETS_DIR}/{parent + '/' if parent != '.' else ''}{hashed}"
        assets[name] = Asset(path, out)
    return AssetMap(base_path, assets)

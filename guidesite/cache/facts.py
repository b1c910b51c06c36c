"""The pages' facts for the link checks (render.PageFacts, packed), in the file facts beside
the index: they are seldom read, so they are appended there rather than kept in the index,
which records where each is (digest -> offset, length)."""
from __future__ import annotations

import contextlib
from pathlib import Path

from .index import Index, facts_digest


class FactsFile:
    def __init__(self, path: Path):
        self.path = path
        self._new: dict[str, bytes] = {}  # digest -> facts of the pages rendered now

    def add(self, digest: str, data: bytes) -> None:
        self._new[digest] = data

    def read(self, digest: str, index: Index) -> bytes | None:
        """A page's facts, or None where they are lost or damaged."""
        data = self._new.get(digest)
        place = index.facts.get(digest)
        if data is None and place is not None:
            with contextlib.suppress(OSError), open(self.path, "rb") as file:
                file.seek(place[0])
                data = file.read(place[1])
        return data if data is not None and facts_digest(data) == digest else None

    def save(self, index: Index) -> None:
        """Append the new facts of the index's pages to the file; start it anew when mostly
        dead or not as the index describes it. Pages whose facts are lost leave the index."""
        live = {page.facts for page in index.pages.values()}
        places = {digest: place for digest, place in index.facts.items() if digest in live}
        try:
            size = self.path.stat().st_size
        except OSError:
            size = -1
        dead = size - sum(length for _, length in places.values())
        if size != index.facts_size or dead > max(size // 2, 1 << 20):
            kept = {digest: self.read(digest, index) for digest in places}
            self._new.update({digest: data for digest, data in kept.items() if data is not None})
            places, size = {}, 0
            self.path.write_bytes(b"")
        with open(self.path, "ab") as file:
            for digest in live - places.keys():
                data = self._new.get(digest)
                if data is not None:
                    file.write(data)
                    places[digest] = (size, len(data))
                    size += len(data)
        index.pages = {rel: page for rel, page in index.pages.items() if page.facts in places}
        index.facts, index.facts_size = places, size

"""The build cache in .cache/guidesite/: what a build may reuse from the builds before it.

Everything in it is keyed by digests (digests.py; file times only tell whether a file's
digest computed by an earlier build still holds, see stamps.py):

- a page's front matter by the SHA-256 of its source file (sources.py);
- small derived data (interface catalogs, bibliography) by a digest of the files they
  come from;
- a page's HTML by its *fingerprint*: a digest of its source file, of every other page
  the page looked at while it was rendered (recorded through Site's lookups, see
  dependencies.py), and of the build's inputs — templates, site.yaml, catalogs,
  bibliography, assets, the generator's own code and the versions of its libraries.
  A page whose fingerprint is unchanged would be rendered to the same bytes, so its
  previous HTML is used as it is.

The HTML lives in objects/, one file per SHA-256 of its content, and is hard-linked into
the site (objects.py); the previous site is kept beside the cache (build_cache.KEPT_DIR) and
becomes the next staging folder, so a rebuild touches only the files that changed. One
index describes it all (index.py), and what the link checks need of each page lies beside
it (facts.py).

Nothing in it names the project's path, and file stamps only spare reading files: a
cache copied with the project, or restored into a fresh clone elsewhere (new mtimes,
ctimes and inodes, as a CI cache restore gives), is checked by content once and reused.
A build takes the cache's lock, so two builds of one project take turns. The pipeline
uses the cache through one layer, CachedSteps (steps.py), which has each step (render,
link check, search, write) make only what the cache cannot supply; the steps are never
given the cache object. BuildCache (build_cache.py) holds the index and the objects for one build.
"""
from .build_cache import CACHE_DIR, BuildCache
from .dependencies import recording_site
from .digests import files_digest, sha256
from .index import StoredPage, facts_digest

__all__ = ["CACHE_DIR", "BuildCache", "StoredPage", "facts_digest", "files_digest", "recording_site", "sha256"]

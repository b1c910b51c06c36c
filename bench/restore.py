"""Benchmark: the build cache restored into a fresh clone at another path, as a CI cache step does.

    .venv/bin/python bench/restore.py --n 1000 2500

For each size it builds the generated project (bench/corpus.py) cold, then measures in
fresh processes (median of --repeat): a rebuild in place with nothing changed, and a
build of a copy at another path made as a checkout plus a cache restore make it: the
sources and .cache/guidesite/ copied with new modification times (and so new ctimes and
inodes), no site/. It prints wall time, the pages rendered anew and whether the copy's
site is byte for byte the original's. The first build of the copy checks each cached file
by its digest; the figure after it is the next build there.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from run import PYTHON, REPO, _clean, measure, prepare  # noqa: E402

# build.py, telling how many pages were rendered anew: last, after the build's warnings.
_COUNTED = f"""
import atexit, sys
sys.path.insert(0, {str(REPO)!r})
from guidesite import cli
real = cli.build
def build(options):
    result = real(options)
    atexit.register(lambda: print(f"rendered: {{result.rendered}}", file=sys.stderr))
    return result
cli.build = build
sys.exit(cli.main(sys.argv[1:]))
"""
CACHE = Path(".cache") / "guidesite"


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _build(root: Path) -> dict[str, float]:
    result = measure([PYTHON, "-c", _COUNTED, "--root", str(root), "--out", str(root / "site")], root)
    counts = [line for line in result["err"].splitlines() if line.startswith("rendered:")]
    result["rendered"] = int(counts[-1].split()[1])
    return result


def restored_clone(root: Path, target: Path) -> Path:
    """A checkout (sources only) with the cache restored: every file new, with new times."""
    shutil.copytree(root, target, copy_function=shutil.copyfile, ignore=shutil.ignore_patterns("site", ".cache", "floor-out"))
    shutil.copytree(root / CACHE, target / CACHE, copy_function=shutil.copyfile)
    return target


def bench_size(n: int, folder: Path, repeat: int) -> dict[str, object]:
    root = prepare(n, folder)
    _clean(root, ".cache", "site")
    cold = _build(root)
    original = _files(root / "site")
    runs: dict[str, list[dict[str, float]]] = {"in place": [], "restored": [], "restored, again": []}
    identical = True
    # The copies are deleted after the last run, not between runs: a build just after tens of
    # thousands of files were deleted waits on the file system discarding them (about 1 s more
    # here at N = 2,500), which a CI machine restoring its cache has not done.
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        for run in range(repeat):
            runs["in place"].append(_build(root))
            clone = restored_clone(root, Path(tmp) / f"elsewhere-{run}" / "clone")
            runs["restored"].append(_build(clone))
            identical = identical and _files(clone / "site") == original
            runs["restored, again"].append(_build(clone))
    return {"pages": len([name for name in original if name.endswith("index.html")]), "cold": cold,
            "identical": identical,
            **{name: {"wall": statistics.median(r["wall"] for r in values),
                      "rendered": max(r["rendered"] for r in values)} for name, values in runs.items()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Measure builds with the cache restored at another path.")
    parser.add_argument("--n", type=int, nargs="+", default=[1000], help="articles per language (default 1000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure; the median is reported (default 3)")
    parser.add_argument("--dir", type=Path, default=BENCH / "corpus", help="where the corpora are generated")
    args = parser.parse_args(argv)
    print(f"median of {args.repeat}, wall seconds with interpreter start-up; rendered: the most of any run")
    print("| N per language | cold | in place, nothing changed | restored elsewhere | restored, next build | rendered when restored | same bytes |")
    print("|---:|---:|---:|---:|---:|---:|---|")
    for n in args.n:
        r = bench_size(n, args.dir, args.repeat)
        print(f"| {n} | {r['cold']['wall']:.2f} | {r['in place']['wall']:.2f} | {r['restored']['wall']:.2f} "
              f"| {r['restored, again']['wall']:.2f} | {r['restored']['rendered']} | {'yes' if r['identical'] else 'NO'} |")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())

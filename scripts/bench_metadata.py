#!/usr/bin/env python3
"""Benchmark ``bwv metadata import`` on a 100,000-row manifest against a plain load.

An instance is seeded with 100,000 ingested originals (rows only), and a manifest names each
of them by the name it was uploaded under, with every column filled, as a force's evidence
system exports a month of a large force's footage. In the same run it times:

- plain: Python's ``csv`` reader and one ``executemany`` into a bare SQLite table of the same
  columns (no checks, no matching to files, no transaction-wide refusal);
- bwv, CSV: ``import_manifest`` (every row checked, matched to its file by name, incident
  types mapped, times parsed, written in one transaction and audited);
- bwv, JSON Lines: the same rows as JSON Lines;
- bwv, refused: the same CSV with one bad time on its last line (everything is checked,
  nothing is written).

Prints seconds and rows per second for each, against the plain load. Target: 100,000 rows
imported in under a minute on 2 cores.

Example:
    python scripts/bench_metadata.py
    python scripts/bench_metadata.py --rows 10000
"""

from __future__ import annotations

import argparse
import csv
import json
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from pipeline.batch.metadata import FIELDS, import_manifest  # noqa: E402
from pipeline.errors import ManifestError  # noqa: E402
from pipeline.store import open_store  # noqa: E402
from pipeline.store import schema as db  # noqa: E402

TARGET_S = 60.0
TYPES = ("Domestic incident", "MFH high risk", "Concern for welfare", "Assault ABH",
         "ASB youths", "CCE county lines", "RTC")


def manifest_rows(n: int) -> list[dict[str, str]]:
    """A manifest's rows: 300 officers in 12 teams, four shifts, every column filled."""
    return [{"file": f"BWV_{i:06d}.mp4", "officer_id": str(4000 + i % 300),
             "officer_name": f"PC {i % 300} Example", "team": f"Response {i % 300 % 12}",
             "shift": ("Earlies", "Lates", "Nights", "Days")[i % 4], "incident_ref": f"INC-{i}",
             "incident_type": TYPES[i % len(TYPES)],
             "recorded_at": f"2026-11-{1 + i % 30:02d}T{i % 24:02d}:14:00+00:00",
             "camera_id": f"AXON-{i % 500}"} for i in range(1, n + 1)]


def seed(url: str, home: Path, n: int) -> None:
    store = open_store(url, home=home)
    now = datetime.now(UTC)
    with store.session() as s:
        s.execute(insert(db.Media), [{"id": i, "sha256": f"{i:064x}", "state": "done",
                                      "created_at": now, "updated_at": now} for i in range(1, n + 1)])
        s.execute(insert(db.MediaName), [{"media_id": i, "inbox": "/srv/inbox",
                                          "name": f"2026-11/BWV_{i:06d}.mp4", "first_seen_at": now}
                                         for i in range(1, n + 1)])


def write_manifest(path: Path, rows: list[dict[str, str]]) -> Path:
    """The rows as a CSV manifest, as an evidence system writes one (no value here holds a
    comma, a quote or a line break, so none is quoted)."""
    cols = [k for k in FIELDS if k != "sha256"]
    lines = [",".join(cols), *(",".join(r[c] for c in cols) for r in rows)]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def plain_load(path: Path, db_path: Path) -> float:
    start = time.perf_counter()
    conn = sqlite3.connect(db_path)
    cols = [k for k in FIELDS if k != "sha256"]
    conn.execute(f"CREATE TABLE meta ({', '.join(cols)})")
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        conn.executemany(f"INSERT INTO meta VALUES ({', '.join('?' * len(cols))})",
                         ([r[c] for c in cols] for r in reader))
    conn.commit()
    conn.close()
    return time.perf_counter() - start


def timed_import(path: Path, url: str, home: Path) -> tuple[float, str]:
    store = open_store(url, home=home)
    start = time.perf_counter()
    try:
        result = import_manifest(path, store, actor="bench")
        said = f"{result.rows} rows ({result.new} new, {result.replaced} updated)"
    except ManifestError as exc:
        said = f"refused: {exc.problems[0]}"
    return time.perf_counter() - start, said


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args(argv)
    n = args.rows
    with tempfile.TemporaryDirectory(prefix="bwv-bench-meta-") as tmp:
        d = Path(tmp)
        rows = manifest_rows(n)
        manifest = write_manifest(d / "dems.csv", rows)
        jsonl = d / "dems.jsonl"
        jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        bad = write_manifest(d / "bad.csv", [*rows[:-1], {**rows[-1], "recorded_at": "yesterday"}])
        print(f"{n:,} manifest rows, {manifest.stat().st_size / 1e6:.1f} MB as CSV; SQLite", flush=True)
        plain_s = plain_load(manifest, d / "plain.sqlite3")
        results = [("plain csv + executemany", plain_s, f"{n} rows")]
        for name, path in (("bwv, CSV", manifest), ("bwv, JSON Lines", jsonl), ("bwv, refused", bad)):
            home = d / name.replace(" ", "_").replace(",", "")
            home.mkdir()
            url = f"sqlite:///{home / 'bwv.sqlite3'}"
            seed(url, home, n)
            seconds, said = timed_import(path, url, home)
            results.append((name, seconds, said))
        print(f"  {'':26s} {'seconds':>8s} {'rows/s':>9s} {'x plain':>8s}")
        for name, seconds, said in results:
            print(f"  {name:26s} {seconds:8.2f} {n / seconds:9,.0f} {seconds / plain_s:8.1f}  {said}")
        worst = max(s for name, s, _ in results if name.startswith("bwv"))
        ok = worst < TARGET_S
        print(f"target: {n:,} rows in under {TARGET_S:.0f} s: {'yes' if ok else 'NO'} "
              f"(slowest {worst:.1f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

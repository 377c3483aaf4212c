"""Build the demo body-worn-video clips and their known scripts.

One short synthetic clip per scenario in ``scripts.footage.SCENARIOS``
(``01_domestic_kitchen.mp4`` and so on), plus a JSON file holding every
clip's lines with their exact start and end times. Fails (exit status 1) if
the clips together come to 5 MB or more, so the repository stays small.

Example:
    python scripts/make_demo_footage.py
    python scripts/make_demo_footage.py -o /tmp/samples --scripts /tmp/sample_scripts.json
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from scripts.footage import SCENARIOS, ClipScript, FootageError, build_clip, write_scripts_json  # noqa: E402

MAX_TOTAL_BYTES = 5 * 1000 * 1000


def _repo_relative(path: Path) -> str:
    """``path`` relative to the repository root when inside it, else absolute."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(REPO).as_posix()
    except ValueError:
        return str(resolved)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, build every clip, write the scripts JSON; return the exit status."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Example: python scripts/make_demo_footage.py -o data/samples --scripts data/sample_scripts.json",
    )
    parser.add_argument(
        "-o", "--out-dir", type=Path, default=REPO / "data" / "samples",
        help="folder for the MP4 clips (default: data/samples)",
    )  # fmt: skip
    parser.add_argument(
        "--scripts", type=Path, default=REPO / "data" / "sample_scripts.json",
        help="where to write the clips' scripts as JSON (default: data/sample_scripts.json)",
    )  # fmt: skip
    args = parser.parse_args(argv)

    scripts: list[ClipScript] = []
    for index, scenario in enumerate(SCENARIOS):
        out = args.out_dir / f"{index + 1:02d}_{scenario.name}.mp4"
        try:
            script = build_clip(scenario, out, seed=index)
        except FootageError as exc:
            print(f"error: {out}: {exc}", file=sys.stderr)
            return 1
        scripts.append(dataclasses.replace(script, path=_repo_relative(out)))
        size_kb = os.path.getsize(out) / 1000
        print(
            f"{_repo_relative(out)}  {size_kb:.0f} kB  {script.duration_s:.1f} s  {len(script.lines)} lines"
        )

    write_scripts_json(scripts, args.scripts)
    print(f"{_repo_relative(args.scripts)}  {len(scripts)} scripts")

    total = sum(p.stat().st_size for p in args.out_dir.glob("*.mp4"))
    print(f"total {total / 1e6:.2f} MB in {_repo_relative(args.out_dir)}/*.mp4")
    if total >= MAX_TOTAL_BYTES:
        print(
            f"error: clips total {total / 1e6:.2f} MB, over the {MAX_TOTAL_BYTES / 1e6:.0f} MB limit; "
            "shorten the scenarios or raise the crf in scripts/footage.py",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

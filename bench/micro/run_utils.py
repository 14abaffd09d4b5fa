"""Runs every utility micro-benchmark side by side and prints a Markdown table.

    .venv/bin/python bench/micro/run_utils.py [--quick] [--json bench/results/utils.json] [--only jwt]

Our native call and the usual pure-Python way run in the same process, one after
the other, so the ratio is meaningful on a noisy shared machine even when the
absolute numbers are not.
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import Case, time_per_call


def discover() -> list[str]:
    here = Path(__file__).resolve().parent
    return sorted(p.stem for p in here.glob("bench_*.py"))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="shorter timing (smoke run)")
    parser.add_argument("--only", default="", help="substring filter on module names")
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    args = parser.parse_args()
    min_time = 0.02 if args.quick else 0.2
    repeats = 2 if args.quick else 5

    rows = []
    print("| Utility | WSE (us/call) | Baseline | Baseline (us/call) | Speedup | Target |")
    print("|---|---:|---|---:|---:|---|")
    for module_name in discover():
        if args.only and args.only not in module_name:
            continue
        module = importlib.import_module(module_name)
        cases: list[Case] = module.cases()
        for case in cases:
            ours = time_per_call(case.ours, min_time, repeats) * 1e6
            base = time_per_call(case.baseline, min_time, repeats) * 1e6 if case.baseline else None
            speedup = f"{base / ours:.1f}x" if base else "-"
            target = ""
            if case.target_us is not None:
                met = "met" if ours <= case.target_us else "MISSED"
                target = f"<= {case.target_us:g} us ({met})"
            base_txt = f"{base:.3f}" if base else "-"
            print(
                f"| {case.utility} | {ours:.3f} | {case.baseline_name} | {base_txt} | {speedup} | {target} |",
                flush=True,
            )
            rows.append(
                {
                    "utility": case.utility,
                    "ours_us": ours,
                    "baseline": case.baseline_name,
                    "baseline_us": base,
                    "target_us": case.target_us,
                    "note": case.note,
                }
            )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        meta = {"python": platform.python_version(), "machine": platform.machine()}
        args.json.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

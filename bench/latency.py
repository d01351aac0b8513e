"""Issue 3's speed numbers: `python bench/latency.py [--files 10000] [--memories 5000] ...`.

The same as `kenning bench latency --out bench/results` (every option of that command is
accepted): a corpus of real Python files from this interpreter plus generated memories; full
index (vectors excluded, their time reported), warm brief p50/p95/p99, one-file re-index, peak
RSS. Results: bench/results/latency.json.
"""

from __future__ import annotations

import sys
from pathlib import Path

from kenning.bench.commands import bench

if __name__ == "__main__":
    results = Path(__file__).resolve().parent / "results"
    args = ["latency", "--out", str(results), *sys.argv[1:]]
    sys.argv = ["kenning", "bench", *args]
    bench.main(args=args, prog_name="kenning bench")

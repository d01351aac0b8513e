"""LoCoMo evidence recall: `python bench/locomo.py [--locomo PATH] [--peer basic-memory] ...`.

The same as `kenning bench locomo --out bench/results`: each turn a memory, one project per
conversation, questions as requests; recall@k per category for kenning search and brief, a plain
BM25 and (with --peer) basic-memory. The data is read from ../shared/bench/locomo10.json or the
path given; it is never copied into the repository. Results: bench/results/locomo.json.
"""

from __future__ import annotations

import sys
from pathlib import Path

from kenning.bench.commands import bench

if __name__ == "__main__":
    results = Path(__file__).resolve().parent / "results"
    args = ["locomo", "--out", str(results), *sys.argv[1:]]
    sys.argv = ["kenning", "bench", *args]
    bench.main(args=args, prog_name="kenning bench")

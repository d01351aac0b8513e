"""Files touched: `python bench/files_touched.py GIT_DIR [--commits 50] [--peer basic-memory]`.

GIT_DIR is a git work tree or a bare repository you provide (this script fetches nothing and
the repository's code is never copied into kenning's). Each qualifying commit's parent is
checked out into one temporary clone that moves forward (incremental index), the commit message
is the request, and recall@1/3/5/10 of the files the commit changed is reported for kenning and
for BM25 over whole files. The same as `kenning bench history --repo GIT_DIR --out bench/results`.
Results: bench/results/history-<name>.json.
"""

from __future__ import annotations

import sys
from pathlib import Path

from kenning.bench.commands import bench

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
        raise SystemExit("usage: python bench/files_touched.py GIT_DIR [kenning bench options]")
    results = Path(__file__).resolve().parent / "results"
    args = ["history", "--repo", sys.argv[1], "--out", str(results), *sys.argv[2:]]
    sys.argv = ["kenning", "bench", *args]
    bench.main(args=args, prog_name="kenning bench")

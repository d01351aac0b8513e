"""Rebuild `src/kenning/engine/intent_model.npz` from the labelled requests.

Usage: python scripts/train_intent.py [--search] [--out PATH]

Training data: the `train` split of `bench/data/intents.jsonl` plus `bench/data/intents_extra.jsonl`
(requests written for training only; none is within cosine 0.8 of a test request). The `test`
split is never read here; `bench/routing.py` scores the model on it.

The model is one-vs-rest ridge regression in closed form (dual: W = Aᵀ(AAᵀ + λI)⁻¹Y, fast and
deterministic for a few hundred rows) over [embedding · s_e, words/√n · s_w, cues · s_c, 1].
Its scores become probabilities through a softmax whose temperature minimises the negative log
likelihood of 5-fold cross-validated scores. A lexical-only twin (no embedding block) is trained
the same way for machines without the embedder. `--search` grid-searches λ and the block scales
by 5-fold cross-validation on the training rows and prints the table.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from kenning.engine.classify import (  # noqa: E402 - after the sys.path line on purpose
    CUE_NAMES,
    INTENTS,
    MODEL_PATH,
    clean,
    features,
)
from kenning.engine.vectors import embed_query  # noqa: E402

DATA = ROOT / "bench" / "data"
SCALES = (1.0, 1.0, 0.25)
LAMBDA = 1.0
LEX_LAMBDA = 0.3
FOLDS = 5

Matrix = NDArray[np.float64]


def load_rows() -> list[dict[str, str]]:
    rows = [json.loads(line) for line in (DATA / "intents.jsonl").read_text().splitlines()]
    rows = [r for r in rows if r["split"] == "train"]
    extra = DATA / "intents_extra.jsonl"
    if extra.exists():
        rows += [json.loads(line) for line in extra.read_text().splitlines() if line.strip()]
    return rows


def design(
    words: list[set[str]],
    cues: list[set[str]],
    vectors: Matrix | None,
    vocab: dict[str, int],
    scales: tuple[float, float, float],
) -> Matrix:
    n = len(words)
    lex = np.zeros((n, len(vocab)))
    for i, ws in enumerate(words):
        cols = [vocab[w] for w in ws if w in vocab]
        if cols:
            lex[i, cols] = scales[1] / math.sqrt(len(cols))
    cue_index = {c: j for j, c in enumerate(CUE_NAMES)}
    cue = np.zeros((n, len(CUE_NAMES)))
    for i, cs in enumerate(cues):
        cue[i, [cue_index[c] for c in cs]] = scales[2]
    blocks = [lex, cue, np.ones((n, 1))]
    if vectors is not None:
        blocks.insert(0, vectors * scales[0])
    return np.hstack(blocks)


def ridge(a: Matrix, labels: NDArray[np.int64], lam: float) -> Matrix:
    targets = np.eye(len(INTENTS))[labels] * 2 - 1
    alpha = np.linalg.solve(a @ a.T + lam * np.eye(len(a)), targets)
    out: Matrix = a.T @ alpha
    return out


def make_vocab(words: list[set[str]]) -> dict[str, int]:
    return {w: i for i, w in enumerate(sorted(set().union(*words)))}


def cv_scores(
    words: list[set[str]],
    cues: list[set[str]],
    vectors: Matrix | None,
    labels: NDArray[np.int64],
    scales: tuple[float, float, float],
    lam: float,
) -> Matrix:
    """Out-of-fold scores for every row (folds fixed by a seeded permutation)."""
    order = np.random.default_rng(0).permutation(len(labels))
    scores = np.zeros((len(labels), len(INTENTS)))
    for fold in np.array_split(order, FOLDS):
        train = np.setdiff1d(order, fold)
        vocab = make_vocab([words[i] for i in train])

        def pick(idx: NDArray[np.int64], vocab: dict[str, int] = vocab) -> Matrix:
            vec = None if vectors is None else vectors[idx]
            return design([words[i] for i in idx], [cues[i] for i in idx], vec, vocab, scales)

        w = ridge(pick(train), labels[train], lam)
        scores[fold] = pick(fold) @ w
    return scores


def fit_temperature(scores: Matrix, labels: NDArray[np.int64]) -> float:
    best, best_nll = 1.0, math.inf
    for t in np.arange(1.0, 20.01, 0.25):
        z = scores * t
        z -= z.max(1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(1, keepdims=True))
        nll = float(-logp[np.arange(len(labels)), labels].mean())
        if nll < best_nll:
            best, best_nll = float(t), nll
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--search", action="store_true", help="grid-search λ and scales by CV")
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    args = parser.parse_args()

    rows = load_rows()
    texts = [clean(r["text"]) for r in rows]
    labels = np.array([INTENTS.index(r["intent"]) for r in rows])
    started = time.perf_counter()
    # One text per call: the int8 graph quantises per batch, and at run time a query is alone.
    vectors = np.stack([np.asarray(embed_query(t), dtype=np.float64) for t in texts])
    print(f"embedded {len(texts)} training requests in {time.perf_counter() - started:.1f}s")
    feats = [features(t) for t in texts]
    words = [f[0] for f in feats]
    cues = [f[1] for f in feats]

    if args.search:
        for lam in (0.1, 0.3, 1.0, 3.0):
            for scales in ((1.0, 1.0, 0.25), (1.0, 1.0, 0.5), (1.0, 0.5, 0.25), (1.0, 2.0, 0.5)):
                s = cv_scores(words, cues, vectors, labels, scales, lam)
                acc = float((s.argmax(1) == labels).mean())
                print(f"full  λ={lam:<4} scales={scales}  cv accuracy {acc:.3f}")
        for lam in (0.1, 0.3, 1.0):
            s = cv_scores(words, cues, None, labels, SCALES, lam)
            print(f"lexical λ={lam:<4}  cv accuracy {float((s.argmax(1) == labels).mean()):.3f}")
        return

    full_cv = cv_scores(words, cues, vectors, labels, SCALES, LAMBDA)
    lex_cv = cv_scores(words, cues, None, labels, SCALES, LEX_LAMBDA)
    temperature = fit_temperature(full_cv, labels)
    lex_temperature = fit_temperature(lex_cv, labels)
    print(
        f"cv accuracy: full {float((full_cv.argmax(1) == labels).mean()):.3f} "
        f"(T={temperature}), lexical {float((lex_cv.argmax(1) == labels).mean()):.3f} "
        f"(T={lex_temperature})"
    )

    vocab = make_vocab(words)
    dim = vectors.shape[1]
    full = ridge(design(words, cues, vectors, vocab, SCALES), labels, LAMBDA)
    lex = ridge(design(words, cues, None, vocab, SCALES), labels, LEX_LAMBDA)
    n_words, n_cues = len(vocab), len(CUE_NAMES)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("wb") as fh:
        np.savez_compressed(
            fh,
            labels=np.array(INTENTS),
            vocab=np.array(sorted(vocab, key=vocab.__getitem__)),
            cue_names=np.array(CUE_NAMES),
            w_embed=full[:dim].astype(np.float32),
            w_words=full[dim : dim + n_words].astype(np.float32),
            w_cues=full[dim + n_words : dim + n_words + n_cues].astype(np.float32),
            bias=full[-1].astype(np.float32),
            lex_words=lex[:n_words].astype(np.float32),
            lex_cues=lex[n_words : n_words + n_cues].astype(np.float32),
            lex_bias=lex[-1].astype(np.float32),
            temperature=np.array(temperature),
            lex_temperature=np.array(lex_temperature),
            scales=np.array(SCALES),
            trained_on=np.array(len(rows)),
        )
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KB, {n_words} word features)")


if __name__ == "__main__":
    main()

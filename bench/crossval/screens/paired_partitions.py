"""Variants of the linear study recipe against the recipe itself, paired over 20 partitions of the patients.

On one partition into 5 folds a variant's gain is hidden by the partition's own noise (which patients
share a fold moves the recipe by sd ~0.03 slice / ~0.04 patient AUC); compared on the same partitions,
a consistent gain shows. Uses bench:screens' embeddings (embed.ts): the recipe's last-stage average, its
stage-4 mirror asymmetry and the narrow-window view's embedding. 20 stratified patient partitions drawn
here (numpy seeds 1000-1019; not bench:crossval's), the recipe's classifier (linear_screen.fit, L2 0.01),
a patient the mean (or the top 3) of its slices. Prints each partition's figures, then per variant the mean
and the paired difference from the recipe (mean, sd, partitions better). About 8 minutes on 2 cores.
Usage: /usr/bin/python3 bench/crossval/screens/paired_partitions.py [PARTITIONS=20]
"""
import os
import sys

import numpy as np
import torch

from linear_screen import SCREENS, Screen, auc, fit


def partitions(names, label, count, folds=5):
    """`count` stratified partitions of the patients into `folds` folds."""
    for seed in range(count):
        rng, out, turn = np.random.default_rng(1000 + seed), [[] for _ in range(folds)], 0
        for cls in (0, 1):
            for name in rng.permutation([n for n in names if label[n] == cls]):
                out[turn % folds].append(name)
                turn += 1
        yield out


def embeddings():
    """bench:screens' Screen and its embeddings (plain, stage-4 mirror asymmetry, narrow window), or None with a message when they are absent."""
    needed = [os.path.join(SCREENS, f) for f in ("plain+asymmetry.bin", "narrow.bin")]
    if not all(os.path.exists(f) for f in needed):
        print(f"skipped: needs {' and '.join(needed)} (run bench/crossval/screens/embed.ts, part of npm run bench:screens)")
        return None
    torch.set_num_threads(2)
    screen = Screen()
    n = len(screen.y)
    both = np.fromfile(needed[0], dtype=np.float32).reshape(n, -1)
    return screen, both[:, :2048], both[:, 2048:4096], np.fromfile(needed[1], dtype=np.float32).reshape(n, -1)


def recipe_fit(z, y, patient):
    """The recipe's classifier of the training slices (`patient` unused; other fits select slices by it)."""
    return fit(z, y, 0.01)


def compare(screen, variants, count):
    """Cross-validates every variant (name -> slice features, or (features, fit like recipe_fit)) on the
    same `count` partitions and prints each against the first, paired: slice AUC, patient AUC (mean of its
    slices), patient AUC (top 3)."""
    y, patient = screen.y, screen.patient
    names = sorted(set(patient))
    label = {name: y[patient == name][0] for name in names}

    def cross_validate(variant, folds):
        x, fit_slices = variant if isinstance(variant, tuple) else (variant, recipe_fit)
        per_fold = []
        for valid_patients in folds:
            valid = np.isin(patient, valid_patients)
            z = ((x - x[~valid].mean(0)) / (x[~valid].std(0) + 1e-6)).astype(np.float32)
            p = fit_slices(z[~valid], y[~valid], patient[~valid])(z[valid])
            held = sorted(set(patient[valid]))
            of = [p[patient[valid] == name] for name in held]
            labels = [label[name] for name in held]
            per_fold.append((auc(p, y[valid] == 1), auc([v.mean() for v in of], labels), auc([np.sort(v)[-3:].mean() for v in of], labels)))
        return np.mean(per_fold, 0)

    results = {name: [] for name in variants}
    for k, folds in enumerate(partitions(names, label, count)):
        for name, x in variants.items():
            results[name].append(cross_validate(x, folds))
        print(f"partition {k + 1}: " + ", ".join(f"{name} {r[-1][0]:.3f} / {r[-1][1]:.3f}" for name, r in results.items()), flush=True)
    first = next(iter(variants))
    base = np.array(results[first])
    print(f"\nover {count} partitions: slice AUC / patient AUC (mean of its slices) / patient AUC (top 3 slices), each the mean over partitions of a partition's mean over its folds; then the paired difference from {first} (sd, partitions better)")
    for name, r in results.items():
        r = np.array(r)
        d = r - base
        line = f"{name:28s} {r[:, 0].mean():.3f} / {r[:, 1].mean():.3f} / {r[:, 2].mean():.3f}"
        if name != first:
            line += "; " + " / ".join(f"{d[:, i].mean():+.3f} (sd {d[:, i].std(ddof=1):.3f}, {(d[:, i] > 0).sum()} of {count})" for i in range(3))
        print(line)


def run(variants, default_count):
    """A screen's main: `variants(screen, plain, asymmetry, narrow)` compared over argv[1] (or `default_count`) partitions."""
    count = int(sys.argv[1]) if len(sys.argv) > 1 else default_count
    loaded = embeddings()
    if loaded is not None:
        compare(loaded[0], variants(*loaded), count)


def main():
    run(lambda screen, plain, asymmetry, narrow: {
        "the recipe": plain,
        "+ narrow window": np.concatenate([plain, narrow], 1),
        "+ asymmetry": np.concatenate([plain, asymmetry], 1),
        "+ narrow window + asymmetry": np.concatenate([plain, narrow, asymmetry], 1),
    }, 20)


if __name__ == "__main__":
    main()

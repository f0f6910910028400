"""Does a slice scored with its study's context read better, or only rank better against per-patient labels?

Each slice's embedding (the recipe's: the slice and its stroke-window view, bench:screens' embed.ts)
gets, side by side, a label-free summary of its study: the patient's mean embedding, the slice's
deviation from that mean, or its deviation from its two neighbouring slices (by slice number). Paired
over partitions of the patients as paired_partitions.py (numpy seeds 1000...), the recipe's classifier
(L2 0.01), a patient the mean (or top 3) of its slices' probabilities. Slice AUC is measured against
the patient's label, so study context can raise it without any slice being read better: the patient
AUC says whether the study call improved. About 5 minutes for 10 partitions on 2 cores.
Usage: /usr/bin/python3 bench/crossval/screens/study_context.py [PARTITIONS=10]
"""
import csv

import numpy as np

from linear_screen import MANIFEST
from paired_partitions import run


def variants(screen, plain, asymmetry, narrow):
    patient = screen.patient
    slice_number = np.array([int(r["slice_index"]) for r in csv.DictReader(open(MANIFEST))])
    x = np.concatenate([plain, narrow], 1)
    patient_mean, from_mean, from_neighbours = np.zeros_like(x), np.zeros_like(x), np.zeros_like(x)
    for name in set(patient):
        rows = np.where(patient == name)[0]
        rows = rows[np.argsort(slice_number[rows])]
        patient_mean[rows] = x[rows].mean(0)
        from_mean[rows] = x[rows] - x[rows].mean(0)
        for k, row in enumerate(rows):
            neighbours = [r for r in rows[max(0, k - 1):k + 2] if r != row]
            from_neighbours[row] = x[row] - x[neighbours].mean(0)
    return {
        "the recipe": x,
        "+ the patient's mean": np.concatenate([x, patient_mean], 1),
        "+ deviation from it": np.concatenate([x, from_mean], 1),
        "+ deviation from neighbours": np.concatenate([x, from_neighbours], 1),
    }


if __name__ == "__main__":
    run(variants, 10)

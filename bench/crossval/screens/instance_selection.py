"""Instance selection, as mi-SVM-style multiple-instance learning does it: are a stroke patient's
stroke-looking slices a better training signal than all of its slices?

The recipe's classifier (the slice and its stroke-window view, bench:screens' embed.ts; L2 0.01) is fitted,
then fitted again without the share of each training stroke patient's slices it scores least like stroke
(or with them relabelled normal). Paired with the recipe over partitions of the patients
(paired_partitions.compare). About 6 minutes for 10 partitions on 2 cores.
Usage: /usr/bin/python3 bench/crossval/screens/instance_selection.py [PARTITIONS=10]
"""
import numpy as np

from linear_screen import fit
from paired_partitions import recipe_fit, run


def selecting(share, relabel):
    """A fit that refits without (or relabelling as normal) `share` of each stroke patient's least stroke-like training slices."""
    def fit_slices(z, y, patient):
        p = recipe_fit(z, y, patient)(z)
        keep, labels = np.ones(len(y), bool), y.copy()
        for name in set(patient[y == 1]):
            rows = np.where(patient == name)[0]
            least = rows[np.argsort(p[rows])][: int(share * len(rows))]
            if relabel:
                labels[least] = 0
            else:
                keep[least] = False
        return fit(z[keep], labels[keep], 0.01)
    return fit_slices


def variants(screen, plain, asymmetry, narrow):
    x = np.concatenate([plain, narrow], 1)
    return {
        "the recipe": x,
        "without 50% of stroke slices": (x, selecting(0.5, relabel=False)),
        "without 70% of stroke slices": (x, selecting(0.7, relabel=False)),
        "50% of stroke slices normal": (x, selecting(0.5, relabel=True)),
    }


if __name__ == "__main__":
    run(variants, 10)

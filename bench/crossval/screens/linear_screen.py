"""Screens of the linear study recipe on bench:crossval's 5 patient folds (the README's ingredient table).

Needs bench/results/crossval-fold{1..5}-split.json (from `npm run bench:crossval`) and the features of
embed.ts and hand_features.py under bench/results/screens/. Each screen fits the recipe's classifier
(L2-regularised, class-balanced logistic regression of the training slices, each labelled with its
patient's class) per fold and prints the mean over folds of the validation slice AUC and patient AUC (a
patient scored by the mean of its slices' probabilities), the per-fold figures in brackets. These are
numpy/PyTorch screens for choosing what to build, not findstroke's own figures: `findstroke crossval
--recipe study-linear` gives those. Debian's PyTorch (/usr/bin/python3).
"""
import csv
import json
import os

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "..", "..", "results")
SCREENS = os.path.join(RESULTS, "screens")
MANIFEST = os.path.join(HERE, "..", "..", "..", "..", "shared", "data", "brain-stroke-ct", "manifest.csv")


def auc(scores, positive):
    scores, positive = np.asarray(scores, float), np.asarray(positive, bool)
    pos, neg = scores[positive], scores[~positive]
    return ((pos[:, None] > neg[None]).sum() + 0.5 * (pos[:, None] == neg[None]).sum()) / (len(pos) * len(neg))


def fit(x, y, l2):
    """Class-balanced logistic regression (L-BFGS); returns the predict function."""
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    w = torch.zeros(x.shape[1], requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    balance = torch.tensor((1 - y.mean()) / y.mean())
    opt = torch.optim.LBFGS([w, b], max_iter=200, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(xt @ w + b, yt, pos_weight=balance) + l2 * (w**2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return lambda z: torch.sigmoid(torch.from_numpy(z) @ w + b).detach().numpy()


class Screen:
    def __init__(self):
        rows = list(csv.DictReader(open(MANIFEST)))
        self.y = np.array([r["label"] == "stroke" for r in rows], dtype=np.float32)
        self.patient = np.array([r["patient_id"] for r in rows])
        self.folds = [json.load(open(os.path.join(RESULTS, f"crossval-fold{k}-split.json")))["validPatients"] for k in range(1, 6)]

    def run(self, name, features, l2, train_mask=None, patient_weight=None, by_patient=False):
        """One screen: slice and patient AUC per fold. `train_mask` keeps slices out of the fit;
        `patient_weight` weights a patient's slices in its mean; `by_patient` fits one row per patient (its mean slice)."""
        slice_auc, patient_auc = [], []
        for valid_patients in self.folds:
            valid = np.isin(self.patient, valid_patients)
            train = ~valid
            z = ((features - features[train].mean(0)) / (features[train].std(0) + 1e-6)).astype(np.float32)
            names = sorted(set(self.patient[valid]))
            labels = [self.y[self.patient == n][0] for n in names]
            if by_patient:
                train_names = sorted(set(self.patient[train]))
                mean_rows = lambda ns: np.stack([z[self.patient == n].mean(0) for n in ns])
                predict = fit(mean_rows(train_names), np.array([self.y[self.patient == n][0] for n in train_names], np.float32), l2)
                slice_auc.append(auc(predict(z[valid]), self.y[valid] == 1))
                patient_auc.append(auc(predict(mean_rows(names)), labels))
                continue
            keep = train if train_mask is None else train & train_mask
            p = fit(z[keep], self.y[keep], l2)(z[valid])
            slice_auc.append(auc(p, self.y[valid] == 1))
            weight = np.ones(len(p)) if patient_weight is None else patient_weight[valid] + 1e-3
            patient_auc.append(auc([np.average(p[self.patient[valid] == n], weights=weight[self.patient[valid] == n]) for n in names], labels))
        per_fold = lambda v: ", ".join(f"{x:.2f}" for x in v)
        print(f"{name:48s} L2 {l2:<5g} slice {np.mean(slice_auc):.3f} ({per_fold(slice_auc)})  patient {np.mean(patient_auc):.3f} ({per_fold(patient_auc)})", flush=True)


def main():
    needed = [os.path.join(SCREENS, f) for f in ("plain+asymmetry.bin", "narrow.bin", "hand.npy")] + [os.path.join(RESULTS, f"crossval-fold{k}-split.json") for k in range(1, 6)]
    missing = [f for f in needed if not os.path.exists(f)]
    if not os.path.exists(MANIFEST) or missing:
        print(f"skipped: needs {MANIFEST}, bench:crossval's fold splits, embed.ts and hand_features.py (missing: {', '.join(missing) or 'the data'})")
        return
    torch.set_num_threads(2)
    screen = Screen()
    n = len(screen.y)
    both = np.fromfile(os.path.join(SCREENS, "plain+asymmetry.bin"), dtype=np.float32).reshape(n, -1)
    plain, asym4, asym3 = both[:, :2048], both[:, 2048:4096], both[:, 4096:]
    narrow = np.fromfile(os.path.join(SCREENS, "narrow.bin"), dtype=np.float32).reshape(n, -1)
    hand = np.load(os.path.join(SCREENS, "hand.npy"))
    area = hand[:, 0]
    for l2 in (0.01, 0.1):
        screen.run("last stage average (the recipe)", plain, l2)
        screen.run("+ 21 hand-made features", np.concatenate([plain, hand], 1), l2)
        screen.run("+ 21 hand-made features, each x10", np.concatenate([plain, np.repeat(hand, 10, 1)], 1), l2)
        screen.run("+ stage-4 mirror asymmetry", np.concatenate([plain, asym4], 1), l2)
        screen.run("+ stage-4 and stage-3 mirror asymmetry", np.concatenate([plain, asym4, asym3], 1), l2)
        screen.run("stage-4 mirror asymmetry alone", asym4, l2)
        screen.run("narrow window alone", narrow, l2)
        screen.run("+ narrow window", np.concatenate([plain, narrow], 1), l2)
    for l2 in (0.001, 0.01, 0.1):
        screen.run("21 hand-made features alone", hand, l2)
    for threshold in (0.02, 0.08, 0.15):
        screen.run(f"fit without slices of brain area < {threshold}", plain, 0.01, train_mask=area >= threshold)
    screen.run("patient mean weighted by brain area", plain, 0.01, patient_weight=area)
    for l2 in (0.01, 0.1, 1, 10):
        screen.run("one regression of patients on mean embedding", plain, l2, by_patient=True)


if __name__ == "__main__":
    main()

"""Where in the slice: other poolings of the last stage's 8 x 8 map for the linear study recipe.

The recipe averages ResNet-50's last-stage map over the whole slice, which a small lesion barely moves.
Screens on bench:crossval's 5 patient folds, with the recipe's classifier (class-balanced L2 logistic
regression of the slices, a patient the mean of its slices): the average (the recipe); GeM pooling
(p 2 and 3, between average and maximum); the average of each 2 x 2 quarter, or of the top and bottom
halves, side by side (where in the slice a feature is); and one linear classifier of every map position,
pooled over the 64 positions by log-sum-exp (multiple-instance learning within the slice). Needs
lp_ft.py's cache of the first three stages' maps (bench/results/screens/stage3-256.pt) and the exported
body; about 3 minutes on 2 cores. Usage: /usr/bin/python3 bench/crossval/screens/spatial.py
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

from linear_screen import RESULTS, SCREENS, Screen, auc, fit

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "reference"))
import fastai_recipe as reference  # noqa: E402


def stage4_pooled(pools):
    """Each of `pools` (functions of a [B, 2048, 8, 8] batch) over every slice's last-stage map."""
    maps = torch.load(os.path.join(SCREENS, "stage3-256.pt"))
    body = reference.Body(reference.keras_resnet50_body(os.path.join(RESULTS, "crossval-imagenet-body.safetensors"))).eval()
    out = {name: [] for name in pools}
    with torch.no_grad():
        for s in range(0, len(maps), 64):
            m = body.r.layer4(maps[s : s + 64].float())
            for name, pool in pools.items():
                out[name].append(pool(m).half() if name == "positions" else pool(m))
    return {name: torch.cat(parts) for name, parts in out.items()}


def position_mil(positions, y, r=1.0, l2=0.01):
    """One linear classifier of each of the 64 positions, a slice the log-sum-exp (sharpness r) of its positions."""

    def fit_predict(train, valid):
        x = positions[train].float()
        mu, sd = x.mean((0, 1)), x.std((0, 1)) + 1e-6
        x.sub_(mu).div_(sd)
        held = (positions[valid].float() - mu) / sd
        w, b = torch.zeros(x.shape[2], requires_grad=True), torch.zeros(1, requires_grad=True)
        yt = torch.from_numpy(y[train])
        balance = (1 - yt.mean()) / yt.mean()
        pooled = lambda z: (torch.logsumexp(r * (z @ w), 1) - np.log(z.shape[1])) / r + b
        opt = torch.optim.LBFGS([w, b], max_iter=60, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = F.binary_cross_entropy_with_logits(pooled(x), yt, pos_weight=balance) + l2 * (w**2).sum()
            loss.backward()
            return loss

        opt.step(closure)
        with torch.no_grad():
            return torch.sigmoid(pooled(held)).numpy()

    return fit_predict


def main():
    needed = [os.path.join(SCREENS, "stage3-256.pt"), os.path.join(RESULTS, "crossval-imagenet-body.safetensors")]
    if not all(os.path.exists(f) for f in needed):
        print(f"skipped: needs {' and '.join(needed)} (run bench/crossval/screens/lp_ft.py once, after npm run bench:crossval)")
        return
    torch.set_num_threads(2)
    screen = Screen()
    gem = lambda p: (lambda m: m.clamp(min=1e-6).pow(p).mean((2, 3)).pow(1 / p))
    pooled = stage4_pooled({
        "average (the recipe)": lambda m: m.mean((2, 3)),
        "GeM p=2": gem(2),
        "GeM p=3": gem(3),
        "2 x 2 quarters": lambda m: F.adaptive_avg_pool2d(m, 2).flatten(1),
        "top and bottom halves": lambda m: F.adaptive_avg_pool2d(m, (2, 1)).flatten(1),
        "positions": lambda m: m.flatten(2).transpose(1, 2),
    })
    positions = pooled.pop("positions")
    for name, x in pooled.items():
        for l2 in (0.01, 0.1):
            screen.run(name, x.numpy(), l2)
    y, patient = screen.y, screen.patient
    slice_auc, patient_auc = [], []
    for valid_patients in screen.folds:
        valid = np.isin(patient, valid_patients)
        p = position_mil(positions, y)(np.where(~valid)[0], np.where(valid)[0])
        slice_auc.append(auc(p, y[valid] == 1))
        held = sorted(set(patient[valid]))
        patient_auc.append(auc([p[patient[valid] == n].mean() for n in held], [y[patient == n][0] for n in held]))
    print(f"{'each position classified, log-sum-exp over the 64':48s} L2 0.01  slice {np.mean(slice_auc):.3f} ({', '.join(f'{v:.2f}' for v in slice_auc)})  patient {np.mean(patient_auc):.3f} ({', '.join(f'{v:.2f}' for v in patient_auc)})")


if __name__ == "__main__":
    main()

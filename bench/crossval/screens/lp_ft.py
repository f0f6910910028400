"""Linear probe, then fine-tune (LP-FT, Kumar et al. 2022) of ResNet-50's last stage, against the probe alone.

On bench:crossval's 5 patient folds of ../shared/data/brain-stroke-ct: every slice (squashed to 292 px,
centre crop 256) through the first three stages of the ImageNet ResNet-50 once (cached in
bench/results/screens/stage3-256.pt, 1 GB float16); per fold the recipe's linear probe of the last
stage's average (class-balanced L2 logistic regression, L2 0.01), then the last stage and a linear head
started from that probe trained together on the training slices (AdamW, batches of 32, batch norm kept
at its ImageNet statistics). Prints slice and patient AUC (a patient the mean of its slices) per fold for
both. Needs bench:crossval's splits and its exported body (bench/results/crossval-imagenet-body.safetensors).
Usage: /usr/bin/python3 bench/crossval/screens/lp_ft.py [EPOCHS=1] [STAGE_LR=1e-5] [HEAD_LR=1e-4]
"""
import copy
import csv
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "reference"))
import fastai_recipe as reference  # noqa: E402
from linear_screen import auc  # noqa: E402

RESULTS = os.path.join(HERE, "..", "..", "results")
DATA = os.path.join(HERE, "..", "..", "..", "..", "shared", "data", "brain-stroke-ct")


def stage3_maps(body, rows, cache):
    if os.path.exists(cache):
        return torch.load(cache)
    r, out = body.r, []
    with torch.no_grad():
        for s in range(0, len(rows), 32):
            images = [np.asarray(Image.open(os.path.join(DATA, row["path"])).convert("RGB").resize((292, 292), Image.BILINEAR))[18:274, 18:274] for row in rows[s : s + 32]]
            x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 255
            x = r.maxpool(r.relu(r.bn1(r.conv1((x.flip(1) - body.mean) / body.std))))
            out.append(r.layer3(r.layer2(r.layer1(x))).half())
    maps = torch.cat(out)
    torch.save(maps, cache)
    return maps


def probe(x, y, l2=0.01):
    w = torch.zeros(x.shape[1], requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    balance = (1 - y.mean()) / y.mean()
    opt = torch.optim.LBFGS([w, b], max_iter=200, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(x @ w + b, y, pos_weight=balance) + l2 * (w**2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return w.detach(), b.detach()


def main():
    epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    stage_lr = float(sys.argv[2]) if len(sys.argv) > 2 else 1e-5
    head_lr = float(sys.argv[3]) if len(sys.argv) > 3 else 1e-4
    weights = os.path.join(RESULTS, "crossval-imagenet-body.safetensors")
    splits = [os.path.join(RESULTS, f"crossval-fold{k}-split.json") for k in range(1, 6)]
    if not all(os.path.exists(p) for p in [weights, *splits, os.path.join(DATA, "manifest.csv")]):
        print("skipped: needs ../shared/data/brain-stroke-ct and bench:crossval's fold splits and exported body")
        return
    torch.set_num_threads(2)
    rows = list(csv.DictReader(open(os.path.join(DATA, "manifest.csv"))))
    y = np.array([r["label"] == "stroke" for r in rows], dtype=np.float32)
    patient = np.array([r["patient_id"] for r in rows])
    body = reference.Body(reference.keras_resnet50_body(weights)).eval()
    os.makedirs(os.path.join(RESULTS, "screens"), exist_ok=True)
    maps = stage3_maps(body, rows, os.path.join(RESULTS, "screens", "stage3-256.pt"))

    def features(stage, idx):
        with torch.no_grad():
            return torch.cat([stage(maps[idx[s : s + 64]].float()).mean((2, 3)) for s in range(0, len(idx), 64)])

    def scores(p, valid):
        names = sorted(set(patient[valid]))
        return auc(p, y[valid] == 1), auc([p[patient[valid] == n].mean() for n in names], [y[patient == n][0] for n in names])

    pretrained = features(body.r.layer4, np.arange(len(rows)))
    results = {"probe": [], "probe then fine-tune": []}
    for k in range(5):
        valid = np.isin(patient, json.load(open(splits[k]))["validPatients"])
        train, held = np.where(~valid)[0], np.where(valid)[0]
        mu, sd = pretrained[train].mean(0), pretrained[train].std(0) + 1e-6
        w, b = probe((pretrained[train] - mu) / sd, torch.from_numpy(y[train]))
        results["probe"].append(scores(torch.sigmoid(((pretrained[held] - mu) / sd) @ w + b).numpy(), valid))
        stage = copy.deepcopy(body.r.layer4).eval()  # eval: batch norm keeps its ImageNet statistics
        head = nn.Linear(2048, 1)
        head.weight.data = (w / sd)[None].clone()
        head.bias.data = (b - (w * mu / sd).sum()).clone()
        opt = torch.optim.AdamW([{"params": stage.parameters(), "lr": stage_lr}, {"params": head.parameters(), "lr": head_lr}], weight_decay=0.01)
        balance = torch.tensor((1 - y[train].mean()) / y[train].mean())
        generator = torch.Generator().manual_seed(k)
        started = time.time()
        for _ in range(epochs):
            order = train[torch.randperm(len(train), generator=generator).numpy()]
            for s in range(0, len(order), 32):
                idx = order[s : s + 32]
                loss = F.binary_cross_entropy_with_logits(head(stage(maps[idx].float()).mean((2, 3)))[:, 0], torch.from_numpy(y[idx]), pos_weight=balance)
                opt.zero_grad()
                loss.backward()
                opt.step()
        with torch.no_grad():
            results["probe then fine-tune"].append(scores(torch.sigmoid(head(features(stage, held))[:, 0]).numpy(), valid))
        print(f"fold {k + 1}: probe {results['probe'][-1][0]:.3f} / {results['probe'][-1][1]:.3f}, then fine-tuned {results['probe then fine-tune'][-1][0]:.3f} / {results['probe then fine-tune'][-1][1]:.3f} ({time.time() - started:.0f} s)", flush=True)
    for name, v in results.items():
        a = np.array(v)
        print(f"{name}: slice AUC {a[:, 0].mean():.3f}, patient AUC {a[:, 1].mean():.3f} ({epochs} epochs, last stage lr {stage_lr:g}, head lr {head_lr:g})")


if __name__ == "__main__":
    main()

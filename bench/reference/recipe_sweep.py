"""Recipe sweep: the reference recipe's pieces (fastai_recipe.py) under variations, several seeds each, on
the bench:crossval folds of brain-stroke-ct: what helps before anything is built into findstroke. Meant
for a GPU (a 2-core CPU needs ~40 minutes per recipe and seed); the findstroke figures come from
`findstroke crossval` itself.

The images are the 650 px JPEGs shrunk once to 256 px grey (findstroke's decode cache for 128 px), kept
on the device; training crops are RandomResizedCrop(scale 0.35-1, ratio 3/4-4/3) boxes as torchvision
draws them, cut and resized with roi_align (bilinear, averaging when shrinking); validation is fastai's
resize-to-(size x 1.14) and centre crop, as a box of the 256 px image. bf16 autocast on CUDA.

  # pack the data and folds once (then e.g. carry the .npz and weights to a GPU machine)
  /usr/bin/python3 bench/reference/recipe_sweep.py pack --data ../shared/data/brain-stroke-ct --folds bench/results --out sweep.npz
  python3 bench/reference/recipe_sweep.py run --packed sweep.npz --weights bench/results/crossval-imagenet-body.safetensors \
      --recipes base128,trainfrom1_e5 --seeds 42,1 --out sweep.jsonl

Recipes (fine_tune: one frozen epoch, then unfrozen epochs; lr 2e-3, batch 32):
  base128 (the reference: 128 px, 3 unfrozen), base256, d25_128 / d25_256 (2.5D: the slice and its two
  neighbours as the three channels), base128_e8 (8 unfrozen), trainfrom1_e5 (5 unfrozen epochs with fastai's
  first layer group, stem to layer2, fixed: about the reference's compute on a CPU).
  masked128: the reference with everything outside the head blanked (findstroke's --mask-outside-head).
  Other uses of the three channels (a grey slice repeats one plane three times), all at 128 px, 3 unfrozen:
  narrow128 (a narrower "stroke window": grey 70-180 of the brain-windowed JPEG stretched to the full
  range, as radiologists narrow the window to see early ischaemic hypodensity), sym128 (the slice, its
  mirror about the head's midline, and their difference: stroke is mostly one-sided, a normal brain
  nearly symmetric), symn128 (the same of the narrowed slice), winsym128 (slice, narrowed slice, and the
  narrowed slice's difference from its mirror).
Each line of the output: recipe, seed, per-fold and mean slice AUC and patient AUC (the reference's
top-3 aggregation, and the mean of a patient's slices).
"""
import argparse, csv, io, json, math, os, sys, time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image
from torchvision.ops import roi_align

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fastai_recipe as fr  # noqa: E402

SOURCE = 256
# name: (size, input, unfrozen epochs, first layer group trained after the frozen epoch)
RECIPES = {
    "base128": (128, "2d", 3, 0),
    "d25_128": (128, "25d", 3, 0),
    "base256": (256, "2d", 3, 0),
    "d25_256": (256, "25d", 3, 0),
    "base128_e8": (128, "2d", 8, 0),
    "trainfrom1_e5": (128, "2d", 5, 1),
    "masked128": (128, "masked", 3, 0),
    "narrow128": (128, "narrow", 3, 0),
    "sym128": (128, "sym", 3, 0),
    "symn128": (128, "symn", 3, 0),
    "winsym128": (128, "winsym", 3, 0),
}


def pack(a):
    rows = list(csv.DictReader(open(os.path.join(a.data, "manifest.csv"))))
    jpegs = []
    for r in rows:
        im = Image.open(os.path.join(a.data, r["path"])).convert("L").resize((SOURCE, SOURCE), Image.BILINEAR)
        b = io.BytesIO()
        im.save(b, "JPEG", quality=a.quality, optimize=True)
        jpegs.append(np.frombuffer(b.getvalue(), np.uint8))
    folds = [json.load(open(os.path.join(a.folds, f"crossval-fold{k}-split.json")))["validPatients"] for k in range(1, 6)]
    meta = {"classes": sorted({r["label"] for r in rows}), "folds": folds, "rows": [{"label": r["label"], "patient": r["patient_id"], "slice": int(r["slice_index"])} for r in rows]}
    np.savez(a.out, blob=np.concatenate(jpegs), offsets=np.cumsum([0] + [len(j) for j in jpegs]), meta=np.frombuffer(json.dumps(meta).encode(), np.uint8))
    print(f"{len(rows)} slices, {os.path.getsize(a.out) / 1e6:.1f} MB -> {a.out}")


class Data:
    def __init__(self, path, dev):
        d = np.load(path)
        self.meta = json.loads(d["meta"].tobytes())
        blob, off = d["blob"], d["offsets"]
        rows = self.meta["rows"]
        self.images = torch.from_numpy(np.stack([np.asarray(Image.open(io.BytesIO(blob[off[i] : off[i + 1]].tobytes()))) for i in range(len(rows))]))[:, None].to(dev)
        self.labels = torch.tensor([self.meta["classes"].index(r["label"]) for r in rows], device=dev)
        self.patients = [r["patient"] for r in rows]
        # Neighbouring slices of the same patient (an end slice is its own neighbour).
        n = len(rows)
        order = sorted(range(n), key=lambda i: (self.patients[i], rows[i]["slice"]))
        prev, nxt = list(range(n)), list(range(n))
        for a, b in zip(order, order[1:]):
            if self.patients[a] == self.patients[b]:
                nxt[a], prev[b] = b, a
        self.prev, self.next = torch.tensor(prev, device=dev), torch.tensor(nxt, device=dev)

        self.stacks = {}

    def inputs(self, idx, mode):
        if mode == "2d":
            x = self.images[idx]
        elif mode == "25d":
            x = torch.cat([self.images[self.prev[idx]], self.images[idx], self.images[self.next[idx]]], 1)
        else:
            if mode not in self.stacks:
                self.stacks[mode] = channel_stack(self.images, mode)
            x = self.stacks[mode][idx]
        return x.float().div_(255)


def reflection_grid(cx, cy, theta, size):
    """grid_sample grid reflecting a size x size image about the line through (cx, cy) (normalised
    coordinates) at angle theta from the vertical; one grid per line."""
    lin = (torch.arange(size, device=cx.device, dtype=torch.float32) + 0.5) / size * 2 - 1
    py, px = torch.meshgrid(lin, lin, indexing="ij")
    nx, ny = torch.cos(theta)[:, None, None], -torch.sin(theta)[:, None, None]
    d = (px - cx[:, None, None]) * nx + (py - cy[:, None, None]) * ny
    return torch.stack([px - 2 * d * nx, py - 2 * d * ny], -1)


def midline_mirrors(images):
    """Each uint8 slice [N, 1, S, S] mirrored about its head's midline: the line through the centroid of the
    pixels brighter than 0.2, turned by up to 20 degrees and moved by up to 6 px (at 64 px) to where the
    mirror differs least from the slice (heads lie tilted and off-centre)."""
    dev = images.device
    thetas, offsets = torch.meshgrid(torch.deg2rad(torch.arange(-20, 21, 2.0, device=dev)), torch.arange(-6, 7.0, device=dev) * 2 / 64, indexing="ij")
    thetas, offsets = thetas.reshape(-1), offsets.reshape(-1)
    lin = (torch.arange(64, device=dev) + 0.5) / 64 * 2 - 1
    lines = []
    for x in F.interpolate(images.float() / 255, size=(64, 64), mode="area").split(1):
        m = (x > 0.2).float()
        w = m.sum().clamp(min=1)
        cx, cy = (m * lin).sum() / w, (m * lin[:, None]).sum() / w
        grids = reflection_grid(cx + offsets, cy.expand_as(offsets), thetas, 64)
        err = ((F.grid_sample(x.expand(len(thetas), -1, -1, -1), grids, align_corners=False) - x) ** 2).mean((1, 2, 3))
        k = int(err.argmin())
        lines.append(torch.stack([cx + offsets[k], cy, thetas[k]]))
    lines = torch.stack(lines)
    return torch.cat([F.grid_sample(x.float(), reflection_grid(*l.T, images.shape[-1]), align_corners=False) for x, l in zip(images.split(64), lines.split(64))]).round().clamp(0, 255).to(torch.uint8)


def outside_head_masked(images, threshold=0.08, iterations=400):
    """Each uint8 slice [N, 1, S, S] with everything outside the head set to 0, as findstroke's
    --mask-outside-head does it, by dilation (max pooling) rather than a flood fill: the head is the
    bright region grown from the bright pixels near the centre; outside is the rest grown from the border
    (so what the head encloses is kept)."""
    bright = images.float() > threshold * 255
    size = images.shape[-1]
    yy, xx = torch.meshgrid(torch.arange(size, device=images.device), torch.arange(size, device=images.device), indexing="ij")
    centre = ((yy - size / 2) ** 2 + (xx - size / 2) ** 2 < (size / 12) ** 2)[None, None]

    def grow(region, allowed):
        for _ in range(iterations):
            grown = F.max_pool2d(region.float(), 3, 1, 1).bool() & allowed
            if torch.equal(grown, region):
                break
            region = grown
        return region

    head = grow(bright & centre, bright)
    border = torch.zeros_like(head)
    border[..., 0, :] = border[..., -1, :] = border[..., :, 0] = border[..., :, -1] = True
    outside = grow(border & ~head, ~head)
    return images.masked_fill(outside, 0)


def channel_stack(images, mode):
    """The three input channels of the 'masked', 'narrow', 'sym', 'symn' and 'winsym' recipes, uint8 [N, 3, S, S]."""
    def narrow(x):
        return ((x.float() - 70) * (255 / 110)).clamp(0, 255).round().to(torch.uint8)

    def difference(a, b):
        return (128 + a.float() - b.float()).clamp(0, 255).round().to(torch.uint8)

    x = images
    if mode == "masked":
        return torch.cat([outside_head_masked(part) for part in x.split(256)]).expand(-1, 3, -1, -1).contiguous()
    if mode == "narrow":
        return narrow(x).expand(-1, 3, -1, -1).contiguous()
    m = midline_mirrors(x)
    if mode == "sym":
        return torch.cat([x, m, difference(x, m)], 1)
    n, mn = narrow(x), narrow(m)
    return torch.cat([n, mn, difference(n, mn)] if mode == "symn" else [x, n, difference(n, mn)], 1)


def crop_boxes(n, rng, scale=(0.35, 1.0), ratio=(3 / 4, 4 / 3)):
    """torchvision RandomResizedCrop.get_params, n times, as (x0, y0, x1, y1) on the source image."""
    boxes = []
    for _ in range(n):
        for _ in range(10):
            area = SOURCE * SOURCE * rng.uniform(*scale)
            r = math.exp(rng.uniform(math.log(ratio[0]), math.log(ratio[1])))
            w, h = int(round(math.sqrt(area * r))), int(round(math.sqrt(area / r)))
            if 0 < w <= SOURCE and 0 < h <= SOURCE:
                top, left = rng.integers(0, SOURCE - h + 1), rng.integers(0, SOURCE - w + 1)
                boxes.append((left, top, left + w, top + h))
                break
        else:
            boxes.append((0, 0, SOURCE, SOURCE))
    return boxes


def validation_box(size):
    resize = size + math.ceil(size * 0.14 / 8) * 8
    s, left = SOURCE / resize, (resize - size) // 2
    return (left * s, left * s, (left + size) * s, (left + size) * s)


def cut(x, boxes, size):
    b = torch.tensor([[k, *box] for k, box in enumerate(boxes)], dtype=torch.float32, device=x.device)
    y = roi_align(x, b, output_size=(size, size), spatial_scale=1.0, sampling_ratio=-1, aligned=True)
    return (y if x.shape[1] == 3 else y.expand(-1, 3, -1, -1)).contiguous(memory_format=torch.channels_last)


def run_fold(data, fold, recipe, seed, weights, dev, lr=2e-3, bs=32):
    size, mode, epochs, train_from = RECIPES[recipe]
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    valid_patients = set(data.meta["folds"][fold])
    train = [i for i, p in enumerate(data.patients) if p not in valid_patients]
    valid = [i for i, p in enumerate(data.patients) if p in valid_patients]
    model = nn.Sequential(fr.Body(fr.keras_resnet50_body(weights)), fr.head(2048, len(data.meta["classes"]))).to(dev).to(memory_format=torch.channels_last)
    opt, group_of = fr.fastai_optimizer(model)
    steps = len(train) // bs
    autocast = torch.autocast(dev, dtype=torch.bfloat16, enabled=dev == "cuda")

    def one_cycle(n_epochs, lrs, pct, div):
        total, it = n_epochs * steps, 0
        for _ in range(n_epochs):
            model.train()
            order = rng.permutation(train)
            for s in range(steps):
                idx = torch.tensor(order[s * bs : (s + 1) * bs], device=dev)
                x = cut(data.inputs(idx, mode), crop_boxes(len(idx), rng), size)
                fr.set_one_cycle(opt, group_of, lrs, pct, div, it / total)
                opt.zero_grad(set_to_none=True)
                with autocast:
                    loss = F.cross_entropy(model(x).float(), data.labels[idx])
                loss.backward()
                opt.step()
                it += 1

    started = time.perf_counter()
    fr.freeze_body(model)
    one_cycle(1, fr.frozen_rates(lr), 0.99, 25)
    for p in model.parameters():
        p.requires_grad = True
    for group in fr.layer_groups(model)[:train_from]:
        for m in group:
            for p in m.parameters():
                p.requires_grad = False
    one_cycle(epochs, fr.unfrozen_rates(lr), 0.3, 5)
    model.eval()
    probs = []
    with torch.no_grad(), autocast:
        for s in range(0, len(valid), 128):
            idx = torch.tensor(valid[s : s + 128], device=dev)
            probs.append(model(cut(data.inputs(idx, mode), [validation_box(size)] * len(idx), size)).float().softmax(1))
    p = torch.cat(probs).cpu().numpy()
    y = data.labels[valid].cpu().numpy()
    patients = [data.patients[i] for i in valid]
    top3, top3_targets = fr.patient_scores(p, y, patients)
    names = sorted(set(patients))
    mean = [p[[i for i, x in enumerate(patients) if x == name], 1].mean() for name in names]
    return {"fold": fold + 1, "slice_auc": fr.auc(p[:, 1], y == 1), "patient_auc_top3": fr.auc(top3[:, 1], top3_targets == 1), "patient_auc_mean": fr.auc(mean, top3_targets == 1), "seconds": time.perf_counter() - started}


def run(a):
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    torch.backends.cudnn.benchmark = True
    data = Data(a.packed, dev)
    for recipe in a.recipes.split(","):
        if recipe not in RECIPES:
            sys.exit(f"unknown recipe '{recipe}': one of {', '.join(RECIPES)}")
        for seed in [int(s) for s in a.seeds.split(",")]:
            folds = [run_fold(data, k, recipe, seed, a.weights, dev) for k in range(len(data.meta["folds"]))]
            mean = {k: float(np.mean([f[k] for f in folds])) for k in folds[0] if k != "fold"}
            with open(a.out, "a") as out:
                out.write(json.dumps({"recipe": recipe, "seed": seed, "device": dev, "mean": mean, "folds": folds}) + "\n")
            print(recipe, seed, " ".join(f"{k}={v:.3f}" for k, v in mean.items()), flush=True)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pack")
    p.add_argument("--data", required=True)
    p.add_argument("--folds", required=True, help="folder with bench:crossval's crossval-fold<k>-split.json")
    p.add_argument("--out", required=True)
    p.add_argument("--quality", type=int, default=95, help="JPEG quality of the packed 256 px copies (80: 18 MB, small enough to carry with the fp16 weights)")
    r = sub.add_parser("run")
    r.add_argument("--packed", required=True)
    r.add_argument("--weights", required=True)
    r.add_argument("--recipes", default="base128")
    r.add_argument("--seeds", default="42")
    r.add_argument("--out", required=True)
    a = ap.parse_args()
    (pack if a.command == "pack" else run)(a)


if __name__ == "__main__":
    main()

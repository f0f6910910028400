"""Hand-made grey-level features per slice for the linear study recipe's screens (linear_screen.py).

Every slice of ../shared/data/brain-stroke-ct (manifest order) at 256 px: the region inside the skull
(not reachable from the border without crossing bone, grey >= 200; eroded 2 px), its share of the
image, a 14-bin histogram of its grey levels, their mean and spread, and four left-right differences
about the vertical line through the region's centroid (raw, and 9 px-smoothed: mean and share above 8
and 15 grey levels). Writes bench/results/screens/hand.npy [N, 21] (float32). About 7 minutes on 2 cores.
Debian's PyTorch (/usr/bin/python3); the product never needs Python.
"""
import csv
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "..", "..", "shared", "data", "brain-stroke-ct")
OUT = os.path.join(HERE, "..", "..", "results", "screens")
SIZE = 256
EDGES = [0, 20, 40, 60, 75, 90, 100, 110, 120, 130, 140, 150, 165, 180, 200]


def inside_skull(x):
    bone = x >= 200
    outside = torch.zeros_like(bone)
    outside[..., 0, :] = outside[..., -1, :] = outside[..., :, 0] = outside[..., :, -1] = True
    outside &= ~bone
    while True:  # flood from the border through everything but bone
        grown = (F.max_pool2d(outside.float(), 3, 1, 1) > 0) & ~bone
        if torch.equal(grown, outside):
            break
        outside = grown
    region = ~outside & ~bone
    return (-F.max_pool2d(-region.float(), 5, 1, 2)) > 0  # eroded: no partial-volume rim


def asymmetry(x, m):
    centre = ((m * torch.arange(SIZE).float()).sum((1, 2, 3)) / m.sum((1, 2, 3)).clamp(min=1)).round().long()
    rows = []
    for k in range(len(x)):
        shift = int(2 * centre[k] - (SIZE - 1))
        mirror, mirror_mask = (torch.roll(torch.flip(t[k], [-1]), shift, -1) for t in (x, m))
        both = m[k] * mirror_mask
        n = both.sum().clamp(min=1)
        d = x[k] - mirror
        smooth = F.avg_pool2d(d[None] * both[None], 9, 1, 4)[0].abs()
        rows.append(torch.stack([(d.abs() * both).sum() / n, (smooth * both).sum() / n, ((smooth > 8).float() * both).sum() / n, ((smooth > 15).float() * both).sum() / n]))
    return torch.stack(rows)


def main():
    manifest = os.path.join(DATA, "manifest.csv")
    if not os.path.exists(manifest):
        print(f"skipped: {manifest} is absent (the screens need ../shared/data/brain-stroke-ct)")
        return
    torch.set_num_threads(2)
    rows = list(csv.DictReader(open(manifest)))
    grey = np.stack([np.asarray(Image.open(os.path.join(DATA, r["path"])).convert("L").resize((SIZE, SIZE), Image.BOX)) for r in rows])
    x = torch.from_numpy(grey).float()[:, None]
    m = inside_skull(x).float()
    n = m.sum((1, 2, 3)).clamp(min=1)
    mean = (x * m).sum((1, 2, 3)) / n
    columns = [m.mean((1, 2, 3))]
    columns += [(((x >= a) & (x < b)).float() * m).sum((1, 2, 3)) / n for a, b in zip(EDGES[:-1], EDGES[1:])]
    columns += [mean, (((x - mean[:, None, None, None]) ** 2 * m).sum((1, 2, 3)) / n).sqrt()]
    features = torch.cat([torch.stack(columns, 1), asymmetry(x, m)], 1).numpy().astype(np.float32)
    os.makedirs(OUT, exist_ok=True)
    np.save(os.path.join(OUT, "hand.npy"), features)
    print(f"hand.npy: {features.shape}")


if __name__ == "__main__":
    sys.exit(main())

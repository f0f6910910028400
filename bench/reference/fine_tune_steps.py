"""fine_tune's update rule in Debian's PyTorch on given batches, for the step-by-step equivalence check.

Reads, from --dir: x.bin (float32 [N, 3, S, S] training batches in order), y.json ({"y": labels,
"classes": [...]}), body.safetensors and head.safetensors (findstroke's initial weights, torchvision
names; the head's dropout is off, since each engine draws its own masks). Runs one frozen phase and one
unfrozen phase over the batches exactly as fastai_recipe.py schedules them and prints JSON: every step's
loss, the loss in evaluation mode over all the batches after each phase, and the final head weights.
"""
import argparse, json, sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import fastai_recipe as R


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--bs", type=int, default=32)
    a = ap.parse_args()
    torch.set_num_threads(2)
    meta = json.load(open(f"{a.dir}/y.json"))
    y_all = torch.tensor(meta["y"])
    pixels = np.fromfile(f"{a.dir}/x.bin", dtype=np.float32)
    size = int(round((pixels.size / len(y_all) / 3) ** 0.5))
    x_all = torch.from_numpy(pixels).view(-1, 3, size, size)
    body = R.Body(R.keras_resnet50_body(f"{a.dir}/body.safetensors"))
    head = R.head(2048, len(meta["classes"]))
    for m in head.modules():
        if isinstance(m, nn.Dropout):
            m.p = 0.0
    head.load_state_dict(R.read_safetensors(f"{a.dir}/head.safetensors"), strict=False)
    model = nn.Sequential(body, head)
    opt, group_of = R.fastai_optimizer(model)
    steps = len(y_all) // a.bs
    losses, eval_losses = [], []

    def evaluate():
        # After each phase, as the learner validates: evaluation mode (batch norm's running statistics).
        model.eval()
        with torch.no_grad():
            eval_losses.append(F.cross_entropy(model(x_all[: steps * a.bs]), y_all[: steps * a.bs]).item())

    def phase(lrs, pct, div):
        for it in range(steps):
            model.train()
            x, y = x_all[it * a.bs : (it + 1) * a.bs], y_all[it * a.bs : (it + 1) * a.bs]
            R.set_one_cycle(opt, group_of, lrs, pct, div, it / steps)
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        evaluate()

    R.freeze_body(model)
    phase(R.frozen_rates(a.lr), 0.99, 25)
    for p in model.parameters():
        p.requires_grad = True
    phase(R.unfrozen_rates(a.lr), 0.3, 5)
    print(json.dumps({"losses": losses, "eval_losses": eval_losses, "head": {n: p.detach().flatten().tolist() for n, p in head.named_parameters()}}))


if __name__ == "__main__":
    main()

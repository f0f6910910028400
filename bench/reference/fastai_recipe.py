"""The reference recipe in Debian's PyTorch (run with /usr/bin/python3; no fastai needed).

What fastai's notebook does, written out: RandomResizedCrop(128, min_scale=0.35) for training, resize
to 152 + centre crop 128 for validation, the ImageNet ResNet-50 body (the same Keras weights findstroke
uses, handed over as safetensors in torchvision layout), fastai's head, and fine_tune (one frozen
one-cycle epoch at div 25 / pct_start 0.99 with body batch norm training, then unfrozen one-cycle at
div 5 / pct_start 0.3 with discriminative rates), AdamW (betas 0.9/0.99 with beta1 cycled, eps 1e-5,
weight decay 0.01 skipping batch norm and biases). Same split as findstroke (read from --split).

With --tuned it runs as a performance-minded user runs PyTorch on a CPU, as bench/engine/pytorch_engine.py's
--tuned does: model and every batch channels-last, evaluation under torch.inference_mode, the timed inference
by the faster of PyTorch's two CPU inference paths (batch norm folded by torch.fx, or TorchScript), and
whatever malloc settings the environment gives (the bench passes the ones findstroke's addon applies to
itself). Without it, PyTorch as shipped: NCHW, torch.no_grad, glibc's malloc defaults.

After training (outside wall_s), the final model predicts the validation slices once more from their files
(decode, preprocessing and forward; batch --bs, --threads threads), timed.

Prints and writes JSON: wall_s, valid_accuracy, valid_auc, valid_patient_auc, inference (slices, seconds,
slices_per_s), settings (what this run used), history.
"""
import argparse, json, math, struct, time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from PIL import Image
from torch.fx.experimental.optimization import fuse
from torchvision import transforms as T

from pytorch_settings import run_settings


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8 : 8 + n])
    body = raw[8 + n :]
    dtypes = {"F32": np.float32, "F16": np.float16, "I64": np.int64}
    out = {}
    for name, h in header.items():
        if name == "__metadata__":
            continue
        b, e = h["data_offsets"]
        values = np.frombuffer(body[b:e], dtype=dtypes[h["dtype"]]).reshape(h["shape"])
        # float16 (a half-size copy of the weights, e.g. to carry to another machine) is widened to float32.
        out[name] = torch.from_numpy(values.astype(np.float32) if h["dtype"] == "F16" else values.copy())
    return out


def keras_resnet50_body(weights_path):
    """torchvision's ResNet-50 changed into the Keras variant: stride on the first 1x1 conv, conv biases, bn eps 1e-3."""
    m = torchvision.models.resnet50()
    for layer in [m.layer1, m.layer2, m.layer3, m.layer4]:
        for block in layer:
            if block.conv2.stride != (1, 1):
                block.conv1.stride, block.conv2.stride = block.conv2.stride, (1, 1)
    for name, mod in list(m.named_modules()):
        for cname, child in list(mod.named_children()):
            if isinstance(child, nn.Conv2d):
                setattr(mod, cname, nn.Conv2d(child.in_channels, child.out_channels, child.kernel_size, child.stride, child.padding, bias=True))
            elif isinstance(child, nn.BatchNorm2d):
                child.eps = 1e-3
    m.fc = nn.Identity()
    m.avgpool = nn.Identity()
    state = read_safetensors(weights_path)
    missing, unexpected = m.load_state_dict(state, strict=False)
    assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing), (missing, unexpected)
    return m


class Body(nn.Module):
    def __init__(self, resnet):
        super().__init__()
        self.r = resnet
        self.register_buffer("mean", torch.tensor([103.939, 116.779, 123.68]).view(1, 3, 1, 1) / 255)
        self.register_buffer("std", torch.full((1, 3, 1, 1), 1 / 255))

    def forward(self, x):
        r = self.r
        x = (x.flip(1) - self.mean) / self.std
        x = r.maxpool(r.relu(r.bn1(r.conv1(x))))
        return r.layer4(r.layer3(r.layer2(r.layer1(x))))


class ConcatPool(nn.Module):
    def forward(self, x):
        return torch.cat([F.adaptive_max_pool2d(x, 1), F.adaptive_avg_pool2d(x, 1)], 1)


def fastai_bn(n):
    bn = nn.BatchNorm1d(n)
    bn.bias.data.fill_(1e-3)
    return bn


def head(nf, n_out):
    lins = [nn.Linear(nf * 2, 512, bias=False), nn.Linear(512, n_out, bias=False)]
    for lin in lins:
        nn.init.kaiming_normal_(lin.weight)
    return nn.Sequential(ConcatPool(), nn.Flatten(), fastai_bn(nf * 2), nn.Dropout(0.25), lins[0], nn.ReLU(), fastai_bn(512), nn.Dropout(0.5), lins[1])


class Files(torch.utils.data.Dataset):
    def __init__(self, rows, classes, tf):
        self.rows, self.classes, self.tf = rows, classes, tf

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, i):
        r = self.rows[i]
        return self.tf(Image.open(r["path"]).convert("RGB")), self.classes.index(r["label"])


class TorchScriptAtFirstBatch:
    """PyTorch's TorchScript inference path (torch.jit.trace, freeze, optimize_for_inference), compiled from the first batch."""

    def __init__(self, model):
        self.model, self.compiled = model, None

    def eval(self):
        self.model.eval()
        return self

    def __call__(self, x):
        if self.compiled is None:
            self.compiled = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.trace(self.model, x)))
        return self.compiled(x)


def sched_cos(start, end, pos):
    return start + (1 + math.cos(math.pi * (1 - pos))) * (end - start) / 2


def combined_cos(pct, start, middle, end, pos):
    return sched_cos(start, middle, pos / pct) if pos < pct else sched_cos(middle, end, (pos - pct) / (1 - pct))


def layer_groups(model):
    """fastai's three layer groups of a ResNet learner: stem to layer2, layer3 and layer4, the head."""
    r = model[0].r
    return [[r.conv1, r.bn1, r.layer1, r.layer2], [r.layer3, r.layer4], [model[1]]]


def fastai_optimizer(model):
    """AdamW over fastai's layer groups, each split into decayed weights and undecayed batch norm and
    biases. Returns it and each param group's layer group."""
    opt_groups, group_of = [], []
    for gi, mods in enumerate(layer_groups(model)):
        decay, no_decay = [], []
        for mod in mods:
            for m in mod.modules():
                for pname, p in m.named_parameters(recurse=False):
                    (no_decay if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) or pname == "bias" else decay).append(p)
        for params, wd in ((decay, 0.01), (no_decay, 0.0)):
            if params:
                opt_groups.append({"params": params, "weight_decay": wd})
                group_of.append(gi)
    return torch.optim.AdamW(opt_groups, lr=1e-3, betas=(0.9, 0.99), eps=1e-5), group_of


def set_one_cycle(opt, group_of, lrs, pct, div, pos):
    """fastai's one-cycle hyper-parameters at progress `pos`: cosine lr per layer group, beta1 cycled."""
    for gi, grp in zip(group_of, opt.param_groups):
        grp["lr"] = combined_cos(pct, lrs[gi] / div, lrs[gi], lrs[gi] / 1e5, pos)
        grp["betas"] = (combined_cos(pct, 0.95, 0.85, 0.95, pos), 0.99)


def freeze_body(model):
    """fine_tune's freeze: the body's weights fixed, its batch norm still trained."""
    body = model[0]
    bn_params = {id(p) for m in body.modules() if isinstance(m, nn.BatchNorm2d) for p in m.parameters()}
    for p in body.parameters():
        p.requires_grad = id(p) in bn_params


def frozen_rates(lr):
    return [lr / 10, lr / 10, lr]


def unfrozen_rates(lr):
    """The halved base rate spread over the layer groups, from base / 100 to base."""
    base = lr / 2
    return [base / 100 * (100 ** (i / 2)) for i in range(3)]


def patient_scores(probs, targets, patients):
    """fastai-style study aggregation: per patient, each class's mean of its 3 highest slice
    probabilities, renormalised. Returns the patient rows [patients, classes] and their targets."""
    rows, labels = [], []
    for name in sorted(set(patients)):
        idx = [i for i, pid in enumerate(patients) if pid == name]
        top = np.sort(probs[idx], axis=0)[::-1][:3].mean(0)
        rows.append(top / top.sum())
        labels.append(targets[idx[0]])
    return np.array(rows), np.array(labels)


def auc(scores, positive):
    scores, positive = np.asarray(scores), np.asarray(positive, bool)
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    s = scores[order]
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    p = positive.sum()
    n = len(scores) - p
    return float((ranks[positive].sum() - p * (p + 1) / 2) / (p * n)) if p and n else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", required=True)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--freeze-epochs", type=int, default=1)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--bs", type=int, default=32)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", required=True)
    ap.add_argument("--tuned", action="store_true", help="channels-last, inference mode, the faster of torch.fx folding and TorchScript for the timed inference")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    split = json.load(open(a.split))
    classes = split["classes"]
    started = time.perf_counter()
    resize = a.size + math.ceil(a.size * 0.14 / 8) * 8
    train_tf = T.Compose([T.RandomResizedCrop(a.size, scale=(0.35, 1.0)), T.ToTensor()])
    valid_tf = T.Compose([T.Resize(resize), T.CenterCrop(a.size), T.ToTensor()])
    g = torch.Generator().manual_seed(a.seed)
    train_dl = torch.utils.data.DataLoader(Files(split["train"], classes, train_tf), a.bs, shuffle=True, drop_last=True, num_workers=a.workers, generator=g, persistent_workers=a.workers > 0)
    valid_dl = torch.utils.data.DataLoader(Files(split["valid"], classes, valid_tf), a.bs, shuffle=False, num_workers=a.workers, persistent_workers=a.workers > 0)

    body = Body(keras_resnet50_body(a.weights))
    layout = torch.channels_last if a.tuned else torch.contiguous_format
    model = nn.Sequential(body, head(2048, len(classes))).to(memory_format=layout)
    opt, group_of = fastai_optimizer(model)
    history = []
    no_grad = torch.inference_mode if a.tuned else torch.no_grad

    def evaluate(net=model):
        net.eval()
        probs, targets, losses = [], [], []
        with no_grad():
            for x, y in valid_dl:
                out = net(x.contiguous(memory_format=layout))
                losses.append(F.cross_entropy(out, y, reduction="none"))
                probs.append(out.softmax(1))
                targets.append(y)
        return torch.cat(probs).numpy(), torch.cat(targets).numpy(), torch.cat(losses).mean().item()

    def fit_one_cycle(epochs, lrs, pct, div, phase):
        total = epochs * len(train_dl)
        it = 0
        for _ in range(epochs):
            t0 = time.perf_counter()
            model.train()
            losses = []
            for x, y in train_dl:
                set_one_cycle(opt, group_of, lrs, pct, div, it / total)
                opt.zero_grad(set_to_none=True)
                loss = F.cross_entropy(model(x.contiguous(memory_format=layout)), y)
                loss.backward()
                opt.step()
                losses.append(loss.item())
                it += 1
            p, t, vl = evaluate()
            history.append({"phase": phase, "train_loss": float(np.mean(losses)), "valid_loss": vl, "error_rate": float((p.argmax(1) != t).mean()), "roc_auc": auc(p[:, 1], t == 1), "seconds": time.perf_counter() - t0})
            print(json.dumps(history[-1]), flush=True)

    # fine_tune: freeze (body frozen, its batch norm still trained), then unfreeze.
    freeze_body(model)
    fit_one_cycle(a.freeze_epochs, frozen_rates(a.lr), 0.99, 25, "frozen")
    for p in model.parameters():
        p.requires_grad = True
    fit_one_cycle(a.epochs, unfrozen_rates(a.lr), 0.3, 5, "unfrozen")

    probs, targets, _ = evaluate()
    wall = time.perf_counter() - started

    # The final model as it would predict. Tuned, PyTorch has two CPU inference paths, each timed from its
    # compile to its last batch, and the faster is the reference: batch norm folded into the convolutions by
    # torch.fx (eager), and TorchScript traced, frozen and optimize_for_inference (oneDNN layout), which
    # compiles at the first batch as findstroke's predictor does.
    def timed(predictor):
        inference_started = time.perf_counter()
        predicted, _, _ = evaluate(predictor)
        return predicted, time.perf_counter() - inference_started

    if a.tuned:
        paths = {"torch.fx folded": timed(fuse(model)), "TorchScript": timed(TorchScriptAtFirstBatch(model))}
    else:
        paths = {"no_grad": timed(model)}
    fastest = min(paths, key=lambda name: paths[name][1])
    predicted, inference_s = paths[fastest]
    timings = ", ".join(f"{name} {seconds:.1f} s" for name, (_, seconds) in paths.items())
    settings = run_settings(
        a.tuned,
        evaluation="inference_mode" if a.tuned else "no_grad",
        inference=f"inference_mode, the faster of conv-bn folded by torch.fx and TorchScript traced, frozen, optimize_for_inference: {fastest} ({timings})" if a.tuned else "no_grad",
    )
    agg, agg_t = patient_scores(probs, targets, [r["patient_id"] for r in split["valid"]])
    result = {
        "wall_s": wall,
        "valid_accuracy": float((probs.argmax(1) == targets).mean()),
        "valid_auc": auc(probs[:, 1], targets == 1),
        "valid_patient_auc": auc(agg[:, 1], agg_t == 1),
        "inference": {
            "slices": len(split["valid"]),
            "seconds": inference_s,
            "slices_per_s": len(split["valid"]) / inference_s,
            # how far the predicting model's probabilities are from the final evaluation's (folding's rounding)
            "max_probability_difference": float(np.abs(predicted - probs).max()),
            "seconds_by_path": {name: seconds for name, (_, seconds) in paths.items()},
        },
        "settings": settings,
        "history": history,
    }
    json.dump(result, open(a.out, "w"), indent=2)
    print(json.dumps({k: v for k, v in result.items() if k != "history"}))


if __name__ == "__main__":
    main()

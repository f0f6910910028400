"""Reference side of bench/engine: the same ResNet step in Debian's PyTorch (run with /usr/bin/python3).

Prints one JSON line: {"ips": images per second at the median step time, "rss_mb": resident MB}. The
median step, not the mean, so that a burst of load from a neighbour on a shared machine does not count.
"""
import argparse, json, resource, time

import torch
import torchvision


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="resnet18")
    p.add_argument("--mode", choices=["train", "infer"], default="train")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = getattr(torchvision.models, a.model)(num_classes=3)
    x = torch.rand(a.batch, 3, a.size, a.size)
    y = torch.randint(0, 3, (a.batch,))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.99), eps=1e-5, weight_decay=0.01)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        if a.mode == "train":
            opt.zero_grad(set_to_none=True)
            loss_fn(model(x), y).backward()
            opt.step()
        else:
            with torch.no_grad():
                model(x)

    model.train(a.mode == "train")
    for _ in range(a.warmup):
        step()
    times = []
    for _ in range(a.steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    median = sorted(times)[len(times) // 2]
    print(json.dumps({"ips": a.batch / median, "rss_mb": rss_mb()}))


if __name__ == "__main__":
    main()

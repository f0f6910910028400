"""Reference side of bench/engine: the same ResNet step in Debian's PyTorch (run with /usr/bin/python3).

With --tuned it runs as a performance-minded user runs PyTorch on a CPU (PyTorch's performance tuning
guide): model and input channels-last, inference under torch.inference_mode with each batch norm folded
into its convolution (torch.fx), and whatever malloc settings the environment gives (the bench passes the
ones findstroke's addon applies to itself). Without it, PyTorch as shipped: NCHW, torch.no_grad, glibc's
malloc defaults.

Prints one JSON line: {"ips": images per second at the median step time, "rss_mb": resident MB,
"settings": what this run used}. The median step, not the mean, so that a burst of load from a neighbour
on a shared machine does not count.
"""
import argparse, contextlib, json, os, resource, sys, time

import torch
import torchvision
from torch.fx.experimental.optimization import fuse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
from pytorch_settings import run_settings  # noqa: E402 (bench/reference is not a package)


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
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    p.add_argument("--bf16", action="store_true", help="train or infer under bf16 autocast")
    p.add_argument("--tuned", action="store_true", help="channels-last, inference mode and folded batch norm")
    p.add_argument(
        "--torchscript",
        action="store_true",
        help="with --tuned --mode infer: PyTorch's TorchScript deployment path, traced, frozen and optimize_for_inference (oneDNN layout, conv fusions)",
    )
    a = p.parse_args()
    if a.torchscript and not (a.tuned and a.mode == "infer"):
        p.error("--torchscript measures inference of the tuned model: use it with --tuned --mode infer")

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    device = torch.device(a.device)
    model = getattr(torchvision.models, a.model)(num_classes=3).to(device)
    x = torch.rand(a.batch, 3, a.size, a.size).to(device)
    y = torch.randint(0, 3, (a.batch,)).to(device)
    layout = torch.channels_last if a.tuned else torch.contiguous_format
    model = model.to(memory_format=layout)
    x = x.contiguous(memory_format=layout)
    train = a.mode == "train"
    model.train(train)
    if a.tuned and not train:
        model = fuse(model)
    if a.torchscript and a.bf16:
        # As PyTorch's CPU bf16 deployment runs: traced under autocast, so that the graph holds the casts, then
        # frozen (the weights cast once, batch norm folded); run without autocast. optimize_for_inference's oneDNN
        # layout takes float32 only.
        with torch.no_grad(), torch.autocast(device.type, dtype=torch.bfloat16):
            traced = torch.jit.trace(model, x, check_trace=False)
        torch._C._jit_set_autocast_mode(False)
        with torch.no_grad():
            model = torch.jit.freeze(traced)
    elif a.torchscript:
        with torch.no_grad():
            model = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.trace(model, x)))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.99), eps=1e-5, weight_decay=0.01) if train else None
    loss_fn = torch.nn.CrossEntropyLoss()
    autocast = torch.autocast(device.type, dtype=torch.bfloat16) if a.bf16 and not a.torchscript else contextlib.nullcontext()
    # A GPU computes asynchronously: a step's time counts once the device has finished it.
    synchronize = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    no_grad = torch.inference_mode if a.tuned else torch.no_grad

    def step():
        if train:
            opt.zero_grad(set_to_none=True)
            with autocast:
                loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
        else:
            with no_grad(), autocast:
                model(x)

    for _ in range(a.warmup):
        step()
    synchronize()
    times = []
    for _ in range(a.steps):
        start = time.perf_counter()
        step()
        synchronize()
        times.append(time.perf_counter() - start)
    median = sorted(times)[len(times) // 2]
    if train:
        inference = "-"
    elif a.torchscript and a.bf16:
        inference = "TorchScript: traced under bf16 autocast, frozen, under inference_mode"
    elif a.torchscript:
        inference = "TorchScript: traced, frozen, optimize_for_inference, under inference_mode"
    elif a.tuned:
        inference = "inference_mode, conv-bn folded (torch.fx fuse)"
    else:
        inference = "no_grad"
    on = f"{a.device} ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else "cpu"
    settings = run_settings(a.tuned, device=on, autocast="bf16" if a.bf16 else "off", inference=inference)
    print(json.dumps({"ips": a.batch / median, "rss_mb": rss_mb(), "settings": settings}))


if __name__ == "__main__":
    main()

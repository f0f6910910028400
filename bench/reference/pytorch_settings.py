"""What a PyTorch benchmark process runs with, tuned or as shipped, for its JSON result (bench/engine, bench/realdata)."""
import os

import torch


def run_settings(tuned, **more):
    """The memory format --tuned picks, the malloc settings the environment gave, the thread count, and `more`."""
    malloc = {k: v for k, v in os.environ.items() if k in ("MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_")}
    return {
        "memory_format": "channels_last" if tuned else "contiguous (NCHW)",
        "malloc": " ".join(f"{k}={v}" for k, v in sorted(malloc.items())) or "glibc defaults",
        "threads": torch.get_num_threads(),
        **more,
    }

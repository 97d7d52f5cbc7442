"""GPU example: a small PyTorch training sweep whose tasks each ask for one GPU.

Locally, conveyor packs GPU requests against the GPUs this machine has (nvidia-smi or
CUDA_VISIBLE_DEVICES) and hands each task its own device through CUDA_VISIBLE_DEVICES, so two
tasks never share a GPU by accident and a one-GPU laptop runs the sweep one task at a time. On
the platform the same tasks land on the profile's GPU pool (spot first, on-demand fallback).
Run it: `conveyor run pipelines/examples/gpu_train.py` (needs torch).
"""

from conveyor import dsl
from conveyor.dsl import Metrics, Output


@dsl.component(packages_to_install=["torch"])
def train(width: int, steps: int, metrics: Output[Metrics]) -> float:
    """Fit y = sin(x) with an MLP on whatever device this task was given; returns the final loss."""
    import os
    import time

    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.manual_seed(0)
    x = torch.linspace(-3, 3, 4096, device=device).unsqueeze(1)
    y = torch.sin(x)
    model = torch.nn.Sequential(torch.nn.Linear(1, width), torch.nn.Tanh(), torch.nn.Linear(width, 1)).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    start = time.time()
    for _ in range(steps):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
    if device == "cuda":
        torch.cuda.synchronize()
    metrics.log_metric("loss", float(loss))
    metrics.log_metric("seconds", time.time() - start)
    metrics.metadata["device"] = torch.cuda.get_device_name(0) if device == "cuda" else "cpu"
    metrics.metadata["cuda_visible_devices"] = os.environ.get("CUDA_VISIBLE_DEVICES", "")
    return float(loss)


@dsl.component
def best(losses: list) -> float:
    return min(losses)


@dsl.pipeline(name="gpu-train", description="an MLP width sweep, one GPU per task")
def gpu_train(widths: list = [16, 64, 256], steps: int = 300) -> float:  # noqa: B006 - pipeline defaults are data
    with dsl.ParallelFor(widths) as width:
        fit = train(width=width, steps=steps).set_gpu_limit(1).set_accelerator_type("nvidia-h100")
    return best(losses=dsl.Collected(fit.outputs["Output"])).output

#!/usr/bin/python3
"""kiln against PyTorch eager and torch.compile on an NVIDIA GPU, for the model suite.

usage: gpu_bench.py --bin DIR --models DIR [--rounds R] [--iterations N] [--batch B]...
                    [--out FILE] [NAME...]

Runs on the GPU machine (its python3 has torch, torchvision and onnx; NVIDIA's OpenCL driver
registered as GPU.md says). --models holds make_suite.py's ONNX files (ppocr_det.onnx carried
there: that machine cannot reach the npm registry). For each model and batch: compile once with
`kiln-compile --device gpu` (timed: import, passes, codegen, NVIDIA build), then R rounds, each
one `kiln-run --device gpu --warmup 20 --iterations N --json` and, for the torch-built models,
N timed runs of the same torch module (random weights, same builder and seed as make_suite.py)
eager and under torch.compile, all FP32, each after its own warm-up, CUDA-synchronized per run.
A round's figure is its p50; the table holds the median over rounds. ratio = peer ms / kiln ms
(above 1: kiln is faster). Writes markdown rows to --out (stdout by default).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "models"))
import check_ort  # noqa: E402  (SUITE)
import make_suite  # noqa: E402  (TORCH builders)


def kiln_p50(a, engine, batch):
    r = subprocess.run([os.path.join(a.bin, "kiln-run"), engine, "--device", "gpu", "--batch",
                        str(batch), "--warmup", "20", "--iterations", str(a.iterations),
                        "--json"], capture_output=True, text=True, check=True)
    return json.loads(r.stdout)["latency_ms"]["p50"]


def torch_p50(fn, x, n):
    import torch
    with torch.no_grad():
        for _ in range(10):
            fn(x)
        ts = []
        for _ in range(n):
            torch.cuda.synchronize()
            t = time.perf_counter()
            fn(x)
            torch.cuda.synchronize()
            ts.append((time.perf_counter() - t) * 1e3)
    return statistics.median(ts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--iterations", type=int, default=100)
    ap.add_argument("--batch", type=int, action="append")
    ap.add_argument("--out")
    ap.add_argument("names", nargs="*")
    a = ap.parse_args()
    import torch
    rows = []
    for name in a.names or list(check_ort.SUITE):
        file, iname, size, _ = check_ort.SUITE[name]
        model = os.path.join(a.models, file)
        engine = f"/tmp/gpu-bench-{name}.kiln"
        t0 = time.time()
        subprocess.run([os.path.join(a.bin, "kiln-compile"), model, "-o", engine, "--device",
                        "gpu", "--shape", f"{iname}=Nx3x{size}x{size}", "--max-batch", "4"],
                       check=True, capture_output=True)
        compile_s = time.time() - t0
        module = None
        base = name.split("_")[0] if name.startswith("ppocr") else name
        if base in make_suite.TORCH:
            torch.manual_seed(0)
            module = make_suite.TORCH[base][0]()
            make_suite.make_models.randomize_batchnorm(module)
            module = module.eval().cuda()
            compiled = torch.compile(module)
        for batch in a.batch or [1]:
            kiln, eager, comp = [], [], []
            x = torch.randn(batch, 3, size, size, device="cuda") if module else None
            for _ in range(a.rounds):
                kiln.append(kiln_p50(a, engine, batch))
                if module:
                    eager.append(torch_p50(module, x, a.iterations))
                    comp.append(torch_p50(compiled, x, a.iterations))
            k = statistics.median(kiln)
            for peer, v in (("PyTorch eager", eager), ("torch.compile", comp)):
                if v:
                    p = statistics.median(v)
                    rows.append(f"| {name} | {torch.cuda.get_device_name()} | FP32 | {batch} | "
                                f"{k:.3f} | {peer} {p:.3f} | {p / k:.2f} | {compile_s:.1f} |")
            if not module:
                rows.append(f"| {name} | {torch.cuda.get_device_name()} | FP32 | {batch} | "
                            f"{k:.3f} | no torch module (ONNX-only model) | - | {compile_s:.1f} |")
            print(rows[-1], file=sys.stderr, flush=True)
    text = ("| model | device | precision | batch | kiln ms | peer ms | ratio | compile s |\n"
            "|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n")
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()

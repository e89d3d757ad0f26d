#!/usr/bin/python3
"""kiln against ONNX Runtime CPU on the model suite: latency medians, ratio, compile time.

usage: bench.py --bin DIR --models DIR [--work DIR] [--rounds R] [--iterations N]
                [--batch B]... [--device D] [--out DIR] [NAME...]

For each model of test/models/check_ort.py's SUITE (default: all; models from make_suite.py in
--models): compile once with kiln-compile --device D (default cpu: POCL), so the device program
is built and embedded then and the compile time covers import, passes, codegen, bundle and the
device build; then for each --batch (default 1) R rounds (default 5), each round one
`kiln-run --iterations N --warmup 2 --json` and one `ort_run.js --bench N`, alternating so that
both see the same machine state.  A round's figure is its p50; the table gives the median over
rounds.  ratio = ORT ms / kiln ms: kiln's throughput as a fraction of ONNX Runtime's (above 1:
kiln is faster).  Writes --out/RESULTS.md (default: this directory) with the table and
--out/bench.png (gnuplot, log-scale bars); a model that fails to compile or run gets a row
saying so and the exit status is 1.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "models"))
import check_ort  # noqa: E402  (SUITE, compile_engine, write_input, run, ORT_RUN)

GPU_RESULTS = os.path.join(HERE, "gpu_results.md")  # gpu_bench.py's table, measured there


def gpu_section():
    """The NVIDIA section: gpu_results.md (written from a gpu_bench.py run on the GPU machine)."""
    if os.path.exists(GPU_RESULTS):
        with open(GPU_RESULTS) as f:
            return f.read()
    return ("## NVIDIA GPU: kiln vs PyTorch eager and torch.compile\n\nNot measured yet: run "
            "test/bench/gpu_bench.py on the GPU machine and save its table as gpu_results.md.\n")


PRECISION_RESULTS = os.path.join(HERE, "precision_results.md")  # FP32/FP16/INT8 side by side


def precision_section():
    """The precision table (issue 7): precision_results.md, measured as it says."""
    if os.path.exists(PRECISION_RESULTS):
        with open(PRECISION_RESULTS) as f:
            return f.read()
    return "## Precision\n\nNot measured yet.\n"


def bench_model(a, name, rows):
    file, iname, size, _ = check_ort.SUITE[name]
    model = os.path.join(a.models, file)
    work = os.path.join(a.work, name)
    os.makedirs(work, exist_ok=True)
    engine = os.path.join(work, "engine.kiln")
    try:
        ct = check_ort.compile_engine(a.bin, model, iname, size, engine, ("--device", a.device))
    except check_ort.Failure as e:
        print(f"bench: {name}: {e}", file=sys.stderr)
        rows.append(dict(model=name, batch="-", error="kiln-compile failed"))
        return False
    ok = True
    for b in a.batch:
        indir = os.path.join(work, f"in.b{b}")
        check_ort.write_input(indir, name, iname, size, b)
        kiln, ort = [], []
        try:
            for _ in range(a.rounds):
                out, _ = check_ort.run([os.path.join(a.bin, "kiln-run"), engine, "--device",
                                        a.device, "--inputs-dir", indir, "--iterations",
                                        str(a.iterations), "--warmup", "2", "--json"], "kiln-run")
                kj = json.loads(out)
                kiln.append(kj["latency_ms"]["p50"])
                out, _ = check_ort.run(["node", check_ort.ORT_RUN, "--bench", str(a.iterations),
                                        model, indir], "ort_run.js")
                ort.append(json.loads(out)["p50"])
        except check_ort.Failure as e:
            print(f"bench: {name} batch {b}: {e}", file=sys.stderr)
            rows.append(dict(model=name, batch=b, error="run failed"))
            ok = False
            continue
        km, om = statistics.median(kiln), statistics.median(ort)
        rows.append(dict(model=name, batch=b, device=kj["device"], kiln=km, peer=om,
                         ratio=om / km, compile=ct, kiln_rounds=kiln, peer_rounds=ort))
        print(f"{name} b{b}: kiln {km:.2f} ms, ORT {om:.2f} ms, ratio {om / km:.3f}, "
              f"compile {ct:.2f} s", flush=True)
    return ok


def write_results(a, rows, cmdline, elapsed):
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    lines = ["# kiln benchmark results", "",
             "Written by `test/bench/bench.py`; do not edit by hand. Command:", "",
             f"    {cmdline}", "",
             f"Machine: {cpu}, {os.cpu_count()} CPUs. {a.rounds} rounds x {a.iterations} "
             f"iterations (2 warm-up runs each), kiln and the peer alternating; each figure is "
             f"the median over rounds of the round's p50 latency. ratio = peer ms / kiln ms, "
             f"kiln's throughput as a fraction of the peer's. compile s: kiln-compile with "
             f"--device (import, passes, codegen, bundle, device program build). Total "
             f"{elapsed / 60:.1f} min.", "",
             "## POCL (CPU): kiln vs ONNX Runtime CPU (onnxruntime-node 1.30.0)", "",
             "| model | device | precision | batch | kiln ms | peer ms | ratio | compile s |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['model']} | POCL | FP32 | {r['batch']} | {r['error']} | | | |")
        else:
            lines.append(f"| {r['model']} | {r['device']} (POCL) vs ORT CPU | FP32 | {r['batch']} "
                         f"| {r['kiln']:.2f} | {r['peer']:.2f} | {r['ratio']:.3f} "
                         f"| {r['compile']:.2f} |")
    lines += ["", "![kiln vs ONNX Runtime on POCL](bench.png)", "", gpu_section(), "",
              precision_section()]
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "RESULTS.md"), "w") as f:
        f.write("\n".join(lines))
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump(rows, f, indent=1)


def plot(a, rows):
    """A clustered bar chart of the latencies (log scale) through gnuplot; a gnuplot failure
    is reported and makes the exit status 1."""
    good = [r for r in rows if "error" not in r]
    dat = os.path.join(a.work, "bench.dat")
    with open(dat, "w") as f:
        for r in good:
            f.write(f"{r['model']}-b{r['batch']} {r['kiln']:.4f} {r['peer']:.4f}\n")
    script = f"""set terminal pngcairo size 900,480 noenhanced
set output '{os.path.join(a.out, "bench.png")}'
set title 'kiln (POCL) vs ONNX Runtime CPU, FP32, median latency (lower is better)'
set ylabel 'ms (log scale)'
set logscale y
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set xtics rotate by -30
set key top left
plot '{dat}' using 2:xtic(1) title 'kiln', '' using 3 title 'ONNX Runtime'
"""
    r = subprocess.run(["gnuplot"], input=script, capture_output=True, text=True)
    if r.returncode:
        print(f"bench: gnuplot failed: {r.stderr.strip()}", file=sys.stderr)
        return False
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--work", default="/tmp/kiln-bench")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--iterations", type=int, default=10)
    ap.add_argument("--batch", type=int, action="append")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--out", default=HERE)
    ap.add_argument("names", nargs="*", metavar="NAME", help=" ".join(check_ort.SUITE))
    a = ap.parse_args()
    for n in a.names:
        if n not in check_ort.SUITE:
            ap.error(f"unknown model '{n}' (one of {' '.join(check_ort.SUITE)})")
    a.batch = a.batch or [1]
    t0 = time.time()
    rows, ok = [], True
    for name in a.names or list(check_ort.SUITE):
        ok &= bench_model(a, name, rows)
    write_results(a, rows, " ".join(["test/bench/bench.py"] + sys.argv[1:]), time.time() - t0)
    ok &= plot(a, rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

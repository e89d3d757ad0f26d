#!/usr/bin/python3
"""Build the ONNX models of kiln's graph-pass model tests.

usage: make_models.py [--size S] [--opset N] [--fold-bn] [--stats] OUTDIR NAME...

NAME is one of: resnet50 googlenet topk nms (or 'all' for those four).  Each model is
written to OUTDIR/NAME.onnx, or to OUTDIR/NAME_S.onnx when its input size S (height and
width) is not the model's default (resnet50, googlenet: 224; topk: 32; nms: 64; nms needs
a multiple of 4).  The size comes from --size S, or from the name itself: NAME_S asks for
that file, so one command can make both sizes, e.g.
  make_models.py out resnet50              -> out/resnet50.onnx     (1x3x224x224)
  make_models.py --size 64 out resnet50    -> out/resnet50_64.onnx  (1x3x64x64)
  make_models.py out resnet50 resnet50_64  -> both

Everything is deterministic: torch.manual_seed(0) before each model is built, numpy's
default_rng(0) for nms, and every BatchNorm gets trained-looking statistics from its own
fixed generator (running_mean ~ N(0,0.1), running_var ~ U(0.5,1.5), weight ~ U(0.5,1.5),
bias ~ N(0,0.1)).  No weights are downloaded.

By default the torch models are exported with TrainingMode.PRESERVE on a model in eval
mode: the graph is the inference graph, but torch's exporter does not fold BatchNorm into
the preceding Conv itself, so the BatchNormalization nodes reach kiln (its fold-batchnorm
pass is what we want to test).  --fold-bn exports with TrainingMode.EVAL instead, where
torch folds them away.

Each model is checked with onnx.checker.check_model; a line per model reports its path,
size and export time; --stats adds a histogram of its node op_types.
Needs Debian's python3-onnx and python3-numpy; resnet50, googlenet and topk also need
python3-torch and python3-torchvision.
"""

import argparse
import collections
import os
import sys
import time
import warnings

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

DEFAULT_SIZE = {"resnet50": 224, "googlenet": 224, "topk": 32, "nms": 64}
NAMES = list(DEFAULT_SIZE)


# ---------------------------------------------------------------------------- torch models

def randomize_batchnorm(model, seed=1234):
    """Give every BatchNorm non-trivial statistics and affine parameters, as after training."""
    import torch
    g = torch.Generator().manual_seed(seed)
    n = 0
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            c = m.num_features
            with torch.no_grad():
                m.running_mean.copy_(torch.randn(c, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(c, generator=g) + 0.5)
                if m.weight is not None:
                    m.weight.copy_(torch.rand(c, generator=g) + 0.5)
                if m.bias is not None:
                    m.bias.copy_(torch.randn(c, generator=g) * 0.1)
            n += 1
    return n


def build_resnet50():
    import torchvision
    return torchvision.models.resnet50(weights=None)


def build_googlenet():
    import torchvision
    return torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=True)


def build_topk():
    import torch
    from torch import nn

    def cbr(cin, cout, stride):
        return [nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout),
                nn.ReLU(inplace=True)]

    class TopKNet(nn.Module):
        """conv+bn+relu x3 -> global avg pool -> flatten -> linear -> topk(5), followed by
        device-friendly arithmetic on both topk outputs (device / host / device split)."""

        def __init__(self, classes=10, k=5):
            super().__init__()
            self.k = k
            self.features = nn.Sequential(*cbr(3, 16, 1), *cbr(16, 32, 2), *cbr(32, 64, 2))
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(64, classes)
            self.head1 = nn.Linear(k, 16)
            self.head2 = nn.Linear(16, k)

        def forward(self, x):
            x = self.features(x)
            x = torch.flatten(self.pool(x), 1)
            logits = self.fc(x)
            values, indices = torch.topk(logits, self.k, dim=1)
            rank = indices.to(torch.float32) * 0.5 + 1.0
            head = torch.relu(self.head2(torch.relu(self.head1(values)))) * rank
            return values, indices, rank, head

    return TopKNet()


TORCH_BUILDERS = {"resnet50": build_resnet50, "googlenet": build_googlenet, "topk": build_topk}
TORCH_OUTPUTS = {"topk": ["values", "indices", "rank", "head"]}


def export_torch(name, size, path, opset, fold_bn):
    import torch
    torch.manual_seed(0)
    model = TORCH_BUILDERS[name]()
    randomize_batchnorm(model)
    model.eval()
    x = torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(0))
    mode = torch.onnx.TrainingMode.EVAL if fold_bn else torch.onnx.TrainingMode.PRESERVE
    # PRESERVE warns about constant folding in case the model is in training mode; it is not.
    warnings.filterwarnings("ignore", message="It is recommended that constant folding")
    with torch.no_grad():
        torch.onnx.export(model, (x,), path, opset_version=opset, training=mode,
                          do_constant_folding=True, input_names=["input"],
                          output_names=TORCH_OUTPUTS.get(name, ["output"]))


# ---------------------------------------------------------------------------- nms (onnx helper)

def make_nms(size, path, opset):
    """A tiny detector: two stride-2 Conv+Relu, a 1x1 box head and a 1x1 score head, reshaped
    to boxes [1,N,4] and scores [1,1,N] (N = (size/4)^2), then NonMaxSuppression and a Gather
    of the selected boxes."""
    if size % 4:
        raise SystemExit("nms: --size must be a multiple of 4")
    rng = np.random.default_rng(0)
    n = (size // 4) ** 2
    inits = []

    def w(name, shape, scale):
        inits.append(numpy_helper.from_array((rng.standard_normal(shape) * scale)
                                             .astype(np.float32), name))
        return name

    def c(name, arr):
        inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    N = helper.make_node
    nodes = [
        N("Conv", ["images", w("c1.w", (16, 3, 3, 3), 0.3), w("c1.b", (16,), 0.1)], ["c1"],
          kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
        N("Relu", ["c1"], ["r1"]),
        N("Conv", ["r1", w("c2.w", (16, 16, 3, 3), 0.15), w("c2.b", (16,), 0.1)], ["c2"],
          kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
        N("Relu", ["c2"], ["r2"]),
        # boxes: [1,4,H,W] -> sigmoid -> [1,4,N] -> [1,N,4], centre format (cx, cy, w, h) in [0,1]
        N("Conv", ["r2", w("box.w", (4, 16, 1, 1), 0.3), w("box.b", (4,), 0.1)], ["box"],
          kernel_shape=[1, 1]),
        N("Sigmoid", ["box"], ["box_s"]),
        N("Reshape", ["box_s", c("shape_box", np.array([1, 4, n], np.int64))], ["box_r"]),
        N("Transpose", ["box_r"], ["boxes"], perm=[0, 2, 1]),
        # scores: [1,1,H,W] -> sigmoid -> [1,1,N]
        N("Conv", ["r2", w("score.w", (1, 16, 1, 1), 0.5), w("score.b", (1,), 0.1)], ["score"],
          kernel_shape=[1, 1]),
        N("Sigmoid", ["score"], ["score_s"]),
        N("Reshape", ["score_s", c("shape_score", np.array([1, 1, n], np.int64))], ["scores"]),
        N("NonMaxSuppression",
          ["boxes", "scores", c("max_out", np.array([10], np.int64)),
           c("iou", np.array([0.5], np.float32)), c("score_thr", np.array([0.1], np.float32))],
          ["selected_indices"], center_point_box=1),
        # selected_indices is [M,3] (batch, class, box); gather boxes[0][box]
        N("Gather", ["selected_indices", c("col2", np.array(2, np.int64))], ["box_idx"], axis=1),
        N("Squeeze", ["boxes", c("axis0", np.array([0], np.int64))], ["boxes2d"]),
        N("Gather", ["boxes2d", "box_idx"], ["selected_boxes"], axis=0),
    ]
    graph = helper.make_graph(
        nodes, "nms",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("selected_indices", TensorProto.INT64, ["M", 3]),
         helper.make_tensor_value_info("selected_boxes", TensorProto.FLOAT, ["M", 4])],
        inits)
    model = helper.make_model(graph, producer_name="kiln test/models/make_models.py",
                              opset_imports=[helper.make_opsetid("", opset)])
    onnx.save(model, path)


# ---------------------------------------------------------------------------- driver

def histogram(model):
    return collections.Counter(n.op_type for n in model.graph.node)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, help="input height and width (default: per model)")
    ap.add_argument("--opset", type=int, default=13, help="ONNX opset (default 13)")
    ap.add_argument("--fold-bn", action="store_true",
                    help="let torch fold BatchNorm into Conv (TrainingMode.EVAL)")
    ap.add_argument("--stats", action="store_true", help="print each model's op histogram")
    ap.add_argument("outdir")
    ap.add_argument("names", nargs="+", metavar="NAME",
                    help="resnet50, googlenet, topk, nms, NAME_SIZE (e.g. resnet50_64) or all")
    args = ap.parse_args()
    jobs = []
    for arg in args.names:
        for full in (NAMES if arg == "all" else [arg]):
            name, _, size = full.rpartition("_") if full not in NAMES else (full, "", "")
            if name not in NAMES or (size and not size.isdigit()):
                ap.error(f"unknown model {full!r} (choose from {', '.join(NAMES)}, "
                         "NAME_SIZE or all)")
            jobs.append((name, int(size) if size else args.size or DEFAULT_SIZE[name]))
    os.makedirs(args.outdir, exist_ok=True)
    for name, size in jobs:
        base = name if size == DEFAULT_SIZE[name] else f"{name}_{size}"
        path = os.path.join(args.outdir, base + ".onnx")
        t0 = time.monotonic()
        if name == "nms":
            make_nms(size, path, args.opset)
        else:
            export_torch(name, size, path, args.opset, args.fold_bn)
        dt = time.monotonic() - t0
        model = onnx.load(path)
        onnx.checker.check_model(model)
        print(f"{path}: {os.path.getsize(path)} bytes, {len(model.graph.node)} nodes, "
              f"opset {model.opset_import[0].version}, input 1x3x{size}x{size}, "
              f"built in {dt:.2f} s", flush=True)
        if args.stats:
            for op, k in sorted(histogram(model).items(), key=lambda t: (-t[1], t[0])):
                print(f"  {op:24} {k}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

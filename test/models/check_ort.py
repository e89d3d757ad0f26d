#!/usr/bin/python3
"""Check a kiln engine against ONNX Runtime CPU on one model of the suite at one batch.

usage: check_ort.py --bin DIR --models DIR --work DIR [--device D] [--precision P] [--tol X]
                    NAME BATCH

NAME is a key of SUITE (models from make_suite.py in --models); --bin holds kiln-compile and
kiln-run.  Steps, all in --work/NAME.bBATCH/:
  1. kiln-compile MODEL --shape INPUT=Nx3xSxS --max-batch 4 --device D [--precision P]
     -> engine.kiln (tuned for D; P fp16: the error it costs against ORT's FP32 is what --tol bounds)
  2. fixed-seed random input at BATCH (uniform [-1, 1), seed from the name) -> in/input_0.pb
  3. kiln-run engine.kiln --inputs-dir in --output-dir kiln   (on --device, default cpu: POCL)
  4. test/ort/ort_run.js MODEL in ort                         (onnxruntime-node, CPU)
  5. every output: max|kiln - ort| / max|ort| <= --tol (default 1e-4), shapes equal (the
     text detector's probability map: scale max(max|ort|, 1), see SCALE_FLOOR);
     for the detector also the decoded box list (detections(): score threshold, then greedy
     NMS) must be the same boxes in the same order, coordinates within the same tolerance;
     with --box-f1 F (lowered precisions) the box F1 at IoU 0.5 against ORT's must be >= F.
One line per output; exit status 1 on a mismatch or when any step fails (a model kiln cannot
compile is a failure, never a skip).
"""

import argparse
import os
import shutil
import subprocess
import sys
import time
import zlib

import numpy as np
import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ORT_RUN = os.path.join(HERE, "..", "ort", "ort_run.js")

# name: (model file in --models, input name, input height and width, kind)
SUITE = {
    "resnet50": ("resnet50.onnx", "input", 224, "classifier"),
    "mobilenetv2": ("mobilenetv2.onnx", "input", 224, "classifier"),
    "squeezenet": ("squeezenet.onnx", "input", 224, "classifier"),
    "googlenet": ("googlenet.onnx", "input", 224, "classifier"),
    "yolov5s": ("yolov5s.onnx", "images", 320, "detector"),
    "ppocr_det_320": ("ppocr_det.onnx", "x", 320, "text"),
    "ppocr_det_640": ("ppocr_det.onnx", "x", 640, "text"),
}
MAX_BATCH = 4
SCORE_THRESHOLD = 0.25  # YOLOv5's detect.py default conf_thres
IOU_THRESHOLD = 0.45    # and iou_thres


class Failure(Exception):
    pass


def run(cmd, what):
    """Runs cmd; returns (stdout, seconds).  Raises Failure with its output when it fails."""
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if r.returncode:
        raise Failure(f"{what} failed (exit {r.returncode}): {' '.join(cmd)}\n"
                      f"{(r.stdout + r.stderr).strip()[-3000:]}")
    return r.stdout, dt


def compile_engine(bin_dir, model, iname, size, engine, extra=()):
    cmd = [os.path.join(bin_dir, "kiln-compile"), model, "-o", engine,
           "--shape", f"{iname}=Nx3x{size}x{size}", "--max-batch", str(MAX_BATCH), *extra]
    return run(cmd, "kiln-compile")[1]


def write_input(dirname, name, iname, size, batch):
    """The fixed-seed input of NAME at BATCH as dirname/input_0.pb (a raw_data TensorProto)."""
    rng = np.random.default_rng(zlib.crc32(f"{name}.{batch}".encode()))
    x = rng.uniform(-1, 1, (batch, 3, size, size)).astype(np.float32)
    if name.startswith("yolo"):
        # Blobs rather than pixel noise: noise averages out in the coarse levels, so their
        # anchors' scores tie within rounding and the box order becomes a coin toss.
        coarse = rng.uniform(-1, 1, (batch, 3, size // 32, size // 32)).astype(np.float32)
        x = 0.2 * x + np.kron(coarse, np.ones((32, 32), np.float32))
    os.makedirs(dirname, exist_ok=True)
    with open(os.path.join(dirname, "input_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(x, iname).SerializeToString())


def read_outputs(dirname):
    outs, i = [], 0
    while os.path.exists(p := os.path.join(dirname, f"output_{i}.pb")):
        t = onnx.TensorProto()
        with open(p, "rb") as f:
            t.ParseFromString(f.read())
        outs.append(numpy_helper.to_array(t))
        i += 1
    if not outs:
        raise Failure(f"{dirname}: no output_0.pb")
    return outs


# The text detector's output is a probability map from a final Sigmoid, and on random input
# it is near 0 everywhere (max ~1e-4).  ONNX Runtime's Sigmoid (MLAS's approximation) is exact
# only to ~1.4e-7 absolute there (measured against float64 sigmoid of ORT's own logits, where
# kiln is within 6e-10), so the scale of its error is the map's range [0, 1], not max |ref|.
SCALE_FLOOR = {"text": 1.0}


def rel_error(a, ref, floor=0.0):
    scale = max(float(np.max(np.abs(ref))) if ref.size else 0.0, floor)
    err = float(np.max(np.abs(a.astype(np.float64) - ref))) if ref.size else 0.0
    return err / scale if scale > 0 else err


def detections(pred):
    """YOLOv5 post-processing of one image's [A, 5 + classes] rows: score = obj * best class,
    rows with score > SCORE_THRESHOLD, boxes xywh -> xyxy, greedy class-aware NMS by score.
    Returns (row indices, classes, boxes [K, 4]) in NMS order."""
    cls = pred[:, 5:].argmax(1)
    score = pred[:, 4] * pred[np.arange(len(pred)), 5 + cls]
    idx = np.nonzero(score > SCORE_THRESHOLD)[0]
    # NMS order: by score, but scores within 1e-5 of their neighbour form one run ordered by
    # row. A detector's anchors often tie within float rounding (saturated sigmoids, flat
    # regions), and two correct runtimes may order such ties either way; the runs are a
    # property of the model (errors here are ~1e-7), the order inside them is not.
    idx = idx[np.argsort(-score[idx], kind="stable")]
    run = np.concatenate(([0], np.cumsum(np.diff(-score[idx]) > 1e-5)))
    idx = idx[np.lexsort((idx, run))]
    xy, wh = pred[idx, :2], pred[idx, 2:4]
    boxes = np.concatenate((xy - wh / 2, xy + wh / 2), 1).astype(np.float64)
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    keep, alive = [], np.ones(len(idx), bool)
    for i in range(len(idx)):
        if not alive[i]:
            continue
        keep.append(i)
        lt = np.maximum(boxes[i, :2], boxes[:, :2])
        rb = np.minimum(boxes[i, 2:], boxes[:, 2:])
        inter = np.prod(np.clip(rb - lt, 0, None), 1)
        iou = inter / (area[i] + area - inter)
        alive &= ~((iou > IOU_THRESHOLD) & (cls[idx] == cls[idx[i]]))
    keep = np.array(keep, int)
    return idx[keep], cls[idx[keep]], boxes[keep]


def box_f1(kb, kc, ob, oc, iou_min=0.5):
    """F1 of kiln's boxes against ORT's: greedy one-to-one matching of same-class pairs with IoU
    at least iou_min, best IoU first (the detection metric for a lowered precision, whose scores
    move boxes across the threshold)."""
    if not len(kb) and not len(ob):
        return 1.0
    if not len(kb) or not len(ob):
        return 0.0
    lt = np.maximum(kb[:, None, :2], ob[None, :, :2])
    rb = np.minimum(kb[:, None, 2:], ob[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), 2)
    ka = np.prod(kb[:, 2:] - kb[:, :2], 1)
    oa = np.prod(ob[:, 2:] - ob[:, :2], 1)
    iou = inter / (ka[:, None] + oa[None, :] - inter)
    iou[kc[:, None] != oc[None, :]] = 0
    used_k, used_o, tp = set(), set(), 0
    for flat in np.argsort(-iou, axis=None):
        i, j = divmod(int(flat), iou.shape[1])
        if iou[i, j] < iou_min:
            break
        if i not in used_k and j not in used_o:
            used_k.add(i)
            used_o.add(j)
            tp += 1
    return 2 * tp / (len(kb) + len(ob))


def check_box_f1(kout, oout, f1_min):
    """Each image's box F1 (IoU 0.5) against ORT's list at least f1_min."""
    ok = True
    for b in range(oout.shape[0]):
        _, kc, kb = detections(kout[b])
        _, oc, ob = detections(oout[b])
        f1 = box_f1(kb, kc, ob, oc)
        good = f1 >= f1_min
        ok &= good
        print(f"  image {b}: {len(kb)} boxes, ORT {len(ob)}: F1 at IoU 0.5 {f1:.4f} "
              f"(at least {f1_min:g}): {'ok' if good else 'MISMATCH'}")
    return ok


def check_boxes(kout, oout, tol):
    """Both decoded box lists, image by image: same rows and classes, boxes within tol."""
    ok, total = True, 0
    for b in range(oout.shape[0]):
        ki, kc, kb = detections(kout[b])
        oi, oc, ob = detections(oout[b])
        total += len(oi)
        if len(ki) != len(oi) or (ki != oi).any() or (kc != oc).any():
            print(f"  image {b}: box lists differ: kiln {len(ki)} boxes, ort {len(oi)}; "
                  f"first rows kiln {ki[:8].tolist()} ort {oi[:8].tolist()}")
            ok = False
        elif len(oi) and np.max(np.abs(kb - ob)) > tol * max(1.0, np.max(np.abs(ob))):
            print(f"  image {b}: boxes differ by {np.max(np.abs(kb - ob)):.3g}")
            ok = False
    print(f"  decoded boxes (score > {SCORE_THRESHOLD}, NMS IoU {IOU_THRESHOLD}): {total} in "
          f"{oout.shape[0]} image(s): {'identical' if ok else 'MISMATCH'}")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True, help="directory of kiln-compile and kiln-run")
    ap.add_argument("--models", required=True, help="make_suite.py's output directory")
    ap.add_argument("--work", required=True, help="scratch directory")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--precision", default="fp32")
    ap.add_argument("--box-f1", type=float,
                    help="detector: box F1 at IoU 0.5 at least this, instead of identical lists")
    ap.add_argument("name", choices=list(SUITE))
    ap.add_argument("batch", type=int, choices=range(1, MAX_BATCH + 1), metavar="BATCH")
    a = ap.parse_args()
    file, iname, size, kind = SUITE[a.name]
    model = os.path.join(a.models, file)
    work = os.path.join(a.work, f"{a.name}.b{a.batch}.{a.precision}")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    try:
        if not os.path.exists(model):
            raise Failure(f"{model}: missing (make_suite.py builds it)")
        engine = os.path.join(work, "engine.kiln")
        ct = compile_engine(a.bin, model, iname, size, engine,
                            ("--device", a.device, "--precision", a.precision))
        indir = os.path.join(work, "in")
        os.makedirs(os.path.join(work, "kiln"))  # kiln-run --output-dir wants it to exist
        write_input(indir, a.name, iname, size, a.batch)
        run([os.path.join(a.bin, "kiln-run"), engine, "--device", a.device, "--inputs-dir", indir,
             "--output-dir", os.path.join(work, "kiln"), "--warmup", "0", "--iterations", "1"],
            "kiln-run")
        run(["node", ORT_RUN, model, indir, os.path.join(work, "ort")], "ort_run.js")
        kouts, oouts = read_outputs(os.path.join(work, "kiln")), read_outputs(os.path.join(work, "ort"))
    except Failure as e:
        print(f"check_ort: {a.name} batch {a.batch}: {e}", file=sys.stderr)
        return 1
    print(f"{a.name} batch {a.batch} {a.precision}: {iname} {a.batch}x3x{size}x{size}, "
          f"compiled in {ct:.2f} s")
    ok = len(kouts) == len(oouts)
    if not ok:
        print(f"  kiln wrote {len(kouts)} outputs, ONNX Runtime {len(oouts)}")
    for i, (k, o) in enumerate(zip(kouts, oouts)):
        if k.shape != o.shape:
            print(f"  output {i}: shape kiln {list(k.shape)} vs ort {list(o.shape)}: MISMATCH")
            ok = False
            continue
        e = rel_error(k, o, SCALE_FLOOR.get(kind, 0.0))
        good = e <= a.tol
        ok &= good
        floor = f", scale at least {SCALE_FLOOR[kind]:g}" if kind in SCALE_FLOOR else ""
        print(f"  output {i} {list(o.shape)}: max relative error {e:.3g} (tol {a.tol:g}"
              f"{floor}): {'ok' if good else 'MISMATCH'}")
        if kind == "detector" and k.shape == o.shape:
            ok &= check_box_f1(k, o, a.box_f1) if a.box_f1 else check_boxes(k, o, a.tol)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

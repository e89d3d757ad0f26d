#!/usr/bin/python3
"""make_input.py CASE OUT - writes one input tensor of a --check-numerics lit test, as a .npy
file (numpy.save) or a serialized ONNX TensorProto (.pb, onnx.numpy_helper), by OUT's suffix.

Run with Debian's python3 (python3-numpy, python3-onnx). Each case is a function below."""
import sys

import numpy as np


def ones(out):
    """x of conv-bn.kir at batch 1: every element 1."""
    return np.ones((1, 1, 4, 4), np.float32)


def zero_then_ones(out):
    """x at batch 2: item 0 all 0, item 1 all 1 (the perturbation shows in item 1 only)."""
    return np.concatenate([np.zeros((1, 1, 4, 4)), np.ones((1, 1, 4, 4))]).astype(np.float32)


def bad_shape(out):
    return np.ones((1, 1, 4, 5), np.float32)


def bad_dtype(out):
    return np.ones((1, 1, 4, 4), np.int64)


def f16_ones(out):
    return np.ones((1, 1, 4, 4), np.float16)


def fortran(out):
    return np.asfortranarray(np.ones((1, 1, 4, 2), np.float32).reshape(1, 1, 4, 2))


def main():
    case, out = sys.argv[1], sys.argv[2]
    a = globals()[case](out)
    if out.endswith(".npy"):
        with open(out, "wb") as f:
            np.save(f, a)
    elif out.endswith(".pb"):
        from onnx import numpy_helper
        with open(out, "wb") as f:
            f.write(numpy_helper.from_array(a, "x").SerializeToString())
    else:
        sys.exit("OUT must end in .npy or .pb")


if __name__ == "__main__":
    main()

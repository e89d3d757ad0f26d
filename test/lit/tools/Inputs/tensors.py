# Writes test tensors for the tool tests: usage tensors.py KIND PATH
#   npy-x      x: f32[2,3,32,32] as .npy (batch 2), values i/1000
#   pb-x       the same as an ONNX TensorProto
#   npy-bad    f32[2,3,31,32]: the wrong shape
#   flip PATH OFFSET   flips one byte of an existing file (a corrupt bundle)
import sys
import numpy as np

kind, path = sys.argv[1], sys.argv[2]
x = (np.arange(2 * 3 * 32 * 32, dtype=np.float32) / 1000.0).reshape(2, 3, 32, 32)
if kind == "npy-x":
    np.save(path, x)
elif kind == "pb-x":
    from onnx import numpy_helper
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(x, "x").SerializeToString())
elif kind == "npy-bad":
    np.save(path, np.zeros((2, 3, 31, 32), np.float32))
elif kind == "flip":
    off = int(sys.argv[3])
    data = bytearray(open(path, "rb").read())
    data[off] ^= 0xFF
    open(path, "wb").write(bytes(data))

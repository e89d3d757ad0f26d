#!/usr/bin/python3
"""make_model.py CASE OUT.onnx - writes the ONNX model of one lit test case (onnx.helper).

Run with Debian's python3 (python3-onnx). Each case is a function below; `--list` prints them."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

F = TensorProto.FLOAT


def model(nodes, inputs, outputs, inits=(), opset=13, ir=8, name="g"):
    g = helper.make_graph(nodes, name, inputs, outputs, initializer=list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = ir
    return m


def vi(name, shape, t=F):
    return helper.make_tensor_value_info(name, t, shape)


def arr(a, name):
    return numpy_helper.from_array(np.asarray(a), name)


def conv_relu(out):
    w = np.arange(4 * 3 * 3 * 3, dtype=np.float32).reshape(4, 3, 3, 3) / 100
    b = helper.make_tensor("b", F, [4], [0.5, -0.5, 1.0, 2.0])  # typed float_data
    return model([helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv0", pads=[1, 1, 1, 1],
                                   kernel_shape=[3, 3]),
                  helper.make_node("Relu", ["c"], ["y"], name="relu0")],
                 [vi("x", ["batch", 3, 8, 8])], [vi("y", None)], [arr(w, "w"), b])


def static(out):
    return model([helper.make_node("Sigmoid", ["x"], ["y"])], [vi("x", [2, 5])], [vi("y", None)])


def dynamic_hw(out):
    return model([helper.make_node("Relu", ["x"], ["y"])], [vi("x", ["n", 3, "h", "w"])],
                 [vi("y", None)])


def no_batch_leading(out):
    return model([helper.make_node("Relu", ["x"], ["y"])], [vi("x", [None, 4])], [vi("y", None)])


def constants(out):
    t = helper.make_tensor("cv", F, [2], [1.5, 2.5])
    return model([helper.make_node("Constant", [], ["k"], value=t),
                  helper.make_node("Constant", [], ["s"], value_float=3.0),
                  helper.make_node("Add", ["x", "k"], ["a"]),
                  helper.make_node("Mul", ["a", "s"], ["y"])],
                 [vi("x", [3, 2])], [vi("y", None)])


def ops_v7(out, opset=7):
    nodes = [helper.make_node("Clip", ["x"], ["c"], min=0.0, max=6.0),
             helper.make_node("Pad", ["c"], ["p"], pads=[0, 1, 0, 1], value=0.5),
             helper.make_node("Slice", ["p"], ["s"], starts=[0], ends=[2], axes=[1]),
             helper.make_node("Unsqueeze", ["s"], ["u"], axes=[0]),
             helper.make_node("Squeeze", ["u"], ["q"], axes=[0]),
             helper.make_node("Split", ["q"], ["s1", "s2"], axis=0, split=[1, 3]),
             helper.make_node("ReduceMean", ["s2"], ["y"], axes=[1], keepdims=0)]
    return model(nodes, [vi("x", [4, 6])], [vi("s1", None), vi("y", None)], opset=opset)


def ops_v13(out):
    i64 = lambda a, n: arr(np.array(a, dtype=np.int64), n)
    nodes = [helper.make_node("Clip", ["x", "lo", ""], ["c"]),
             helper.make_node("Pad", ["c", "pads", "cval"], ["p"]),
             helper.make_node("Slice", ["p", "starts", "ends", "axes"], ["s"]),
             helper.make_node("Unsqueeze", ["s", "ax0"], ["u"]),
             helper.make_node("Squeeze", ["u", "ax0"], ["q"]),
             helper.make_node("Split", ["q", "split"], ["s1", "s2"], axis=0),
             helper.make_node("ReduceSum", ["s2", "ax1"], ["y"], keepdims=0)]
    inits = [arr(np.float32(0.0), "lo"), i64([0, 1, 0, 1], "pads"), arr(np.float32(0.5), "cval"),
             i64([0], "starts"), i64([2], "ends"), i64([1], "axes"), i64([0], "ax0"),
             i64([1, 3], "split"), i64([1], "ax1")]
    return model(nodes, [vi("x", [4, 6])], [vi("s1", None), vi("y", None)], inits, opset=13)


def softmax_v11(out):
    return model([helper.make_node("Softmax", ["x"], ["y"])], [vi("x", [2, 5])], [vi("y", None)],
                 opset=11)


def softmax_v13(out):
    return model([helper.make_node("Softmax", ["x"], ["y"])], [vi("x", [2, 5])], [vi("y", None)],
                 opset=13)


def same_upper(out):
    w = np.ones((2, 1, 3, 3), dtype=np.float32)
    return model([helper.make_node("Conv", ["x", "w"], ["y"], auto_pad="SAME_UPPER",
                                   strides=[2, 2]),
                  helper.make_node("MaxPool", ["y"], ["z"], auto_pad="SAME_UPPER",
                                   kernel_shape=[2, 2])],
                 [vi("x", [1, 1, 5, 5])], [vi("z", None)], [arr(w, "w")])


def quoted_names(out):
    return model([helper.make_node("Relu", ["in put"], ["out/relu:0"], name="my node/relu")],
                 [vi("in put", [2])], [vi("out/relu:0", None)])


def external(out):
    d = os.path.dirname(os.path.abspath(out))
    w = np.array([1.0, 2.0, 3.0, 4.0], dtype=np.float32)
    pre = b"\0" * 8
    with open(os.path.join(d, os.path.basename(out) + ".bin"), "wb") as f:
        f.write(pre + w.tobytes())
    t = arr(w, "w")
    t.ClearField("raw_data")
    t.data_location = TensorProto.EXTERNAL
    for k, v in (("location", os.path.basename(out) + ".bin"), ("offset", "8"), ("length", "16")):
        e = t.external_data.add()
        e.key, e.value = k, v
    return model([helper.make_node("Add", ["x", "w"], ["y"])], [vi("x", [4])], [vi("y", None)],
                 [t])


def external_missing(out):
    m = external(out)
    os.remove(out + ".bin")
    return m


def f16_init(out):
    w = np.array([1.0, -2.0, 0.5], dtype=np.float16)
    typed = helper.make_tensor("wt", TensorProto.FLOAT16, [3], [4.0, 0.25, -1.0])  # int32_data
    return model([helper.make_node("Add", ["x", "w"], ["a"]),
                  helper.make_node("Add", ["a", "wt"], ["y"])],
                 [vi("x", [3], TensorProto.FLOAT16)], [vi("y", None)], [arr(w, "w"), typed])


def multi_out(out):
    return model([helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Neg", ["x"], ["n"])],
                 [vi("x", [2])], [vi("r", None), vi("n", None)])


def cast(out):
    return model([helper.make_node("Cast", ["x"], ["y"], to=TensorProto.INT32)], [vi("x", [2])],
                 [vi("y", None)])


def gemm(out):
    w = np.ones((4, 3), dtype=np.float32)
    return model([helper.make_node("Gemm", ["x", "w"], ["y"], transB=1, alpha=2.0)],
                 [vi("x", ["N", 3])], [vi("y", None)], [arr(w, "w")])


def reshape_const(out):
    return model([helper.make_node("Reshape", ["x", "shape"], ["y"])], [vi("x", [2, 3])],
                 [vi("y", None)], [arr(np.array([3, -1], dtype=np.int64), "shape")])


def reshape_dynamic(out):
    return model([helper.make_node("Reshape", ["x", "s"], ["y"], name="r")],
                 [vi("x", [2, 3]), vi("s", [2], TensorProto.INT64)], [vi("y", None)])


def unknown_op(out):
    return model([helper.make_node("Frobnicate", ["x"], ["y"], name="f")], [vi("x", [2])],
                 [vi("y", None)])


def bad_domain(out):
    m = model([helper.make_node("Relu", ["x"], ["y"], domain="com.example")], [vi("x", [2])],
              [vi("y", None)])
    m.opset_import.append(helper.make_opsetid("com.example", 1))
    return m


def opset_new(out):
    return model([helper.make_node("Relu", ["x"], ["y"])], [vi("x", [2])], [vi("y", None)],
                 opset=22)


def opset_old(out):
    return model([helper.make_node("Relu", ["x"], ["y"])], [vi("x", [2])], [vi("y", None)],
                 opset=6)


def ir_old(out):
    return model([helper.make_node("Relu", ["x"], ["y"])], [vi("x", [2])], [vi("y", None)], ir=2)


def attr_type(out):
    return model([helper.make_node("LeakyRelu", ["x"], ["y"], name="lr", alpha=2)],
                 [vi("x", [2])], [vi("y", None)])


def attr_unknown(out):
    return model([helper.make_node("Relu", ["x"], ["y"], name="r", slope=0.5)], [vi("x", [2])],
                 [vi("y", None)])


def shape_mismatch(out):
    return model([helper.make_node("Add", ["a", "b"], ["y"], name="add")],
                 [vi("a", [2, 3]), vi("b", [4])], [vi("y", None)])


def kernel_mismatch(out):
    w = np.ones((2, 1, 3, 3), dtype=np.float32)
    return model([helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[5, 5])],
                 [vi("x", [1, 1, 8, 8])], [vi("y", None)], [arr(w, "w")])


def dropout_mask(out):
    return model([helper.make_node("Dropout", ["x"], ["y", "mask"]),
                  helper.make_node("Cast", ["mask"], ["m"], to=TensorProto.FLOAT)],
                 [vi("x", [2])], [vi("y", None), vi("m", None)])


def dropout_ok(out):
    return model([helper.make_node("Dropout", ["x", "ratio"], ["y", "mask"])], [vi("x", [2])],
                 [vi("y", None)], [arr(np.float32(0.25), "ratio")])


def resize(out):
    return model([helper.make_node("Resize", ["x", "", "scales"], ["y"], mode="nearest")],
                 [vi("x", [1, 1, 2, 2])], [vi("y", None)],
                 [arr(np.array([1, 1, 2, 2], dtype=np.float32), "scales")])


def upsample(out):
    return model([helper.make_node("Upsample", ["x"], ["y"], scales=[1.0, 1.0, 2.0, 2.0])],
                 [vi("x", [1, 1, 2, 2])], [vi("y", None)], opset=7)


def weight_input(out):
    # IR 3 style: the initializer is also listed as a graph input.
    return model([helper.make_node("Add", ["x", "w"], ["y"])], [vi("x", [2]), vi("w", [2])],
                 [vi("y", None)], [arr(np.array([1, 2], dtype=np.float32), "w")], ir=3, opset=7)


def shape_subgraph(out):
    i64 = TensorProto.INT64
    return model([helper.make_node("Shape", ["x"], ["s"]),
                  helper.make_node("Gather", ["s", "i0"], ["d0"], axis=0),
                  helper.make_node("Unsqueeze", ["d0", "ax"], ["u"]),
                  helper.make_node("Concat", ["u", "m1"], ["ns"], axis=0),
                  helper.make_node("Reshape", ["x", "ns"], ["y"], name="r")],
                 [vi("x", [2, 3, 4])], [vi("y", None)],
                 [arr(np.array(0, dtype=np.int64), "i0"), arr(np.array([0], dtype=np.int64), "ax"),
                  arr(np.array([-1], dtype=np.int64), "m1")])


def const_of_shape_range(out):
    one = helper.make_tensor("one", F, [1], [1.0])
    return model([helper.make_node("Shape", ["x"], ["s"]),
                  helper.make_node("ConstantOfShape", ["s"], ["c"], value=one),
                  helper.make_node("Add", ["x", "c"], ["y"]),
                  helper.make_node("Gather", ["s", "i1"], ["n"], axis=0),
                  helper.make_node("Range", ["z", "n", "d"], ["r"])],
                 [vi("x", [2, 3])], [vi("y", None), vi("r", None)],
                 [arr(np.array(1, dtype=np.int64), "i1"), arr(np.array(0, dtype=np.int64), "z"),
                  arr(np.array(1, dtype=np.int64), "d")])


def expand_const(out):
    return model([helper.make_node("Expand", ["x", "s"], ["y"]),
                  helper.make_node("Tile", ["x", "r"], ["t"])],
                 [vi("x", [3, 1])], [vi("y", None), vi("t", None)],
                 [arr(np.array([2, 3, 4], dtype=np.int64), "s"),
                  arr(np.array([1, 2], dtype=np.int64), "r")])


def expand_dynamic(out):
    i64 = TensorProto.INT64
    return model([helper.make_node("Expand", ["x", "s"], ["y"]),
                  helper.make_node("Tile", ["x", "r"], ["t"])],
                 [vi("x", [3, 1]), vi("s", [3], i64), vi("r", [2], i64)],
                 [vi("y", None), vi("t", None)])


def digit_names(out):
    return model([helper.make_node("Relu", ["x"], ["1"]), helper.make_node("Neg", ["1"], ["y"])],
                 [vi("x", [2])], [vi("y", None)])


# ---- normalizations and quantization (layer_norm results, qdq, einsum) ----
def layer_norm3(out):
    return model([helper.make_node("LayerNormalization", ["x", "s"], ["y", "m", "r"], axis=1)],
                 [vi("x", [2, 3, 4]), vi("s", [3, 4])], [vi("y", None), vi("m", None),
                                                         vi("r", None)], opset=17)


def qdq(out):
    s = np.array(0.5, dtype=np.float32)
    z = np.array(3, dtype=np.int8)
    return model([helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"]),
                  helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"])],
                 [vi("x", [2, 3])], [vi("y", None)], [arr(s, "s"), arr(z, "z")])


def einsum_bmm(out):
    return model([helper.make_node("Einsum", ["a", "b"], ["y"], equation="bij,bjk->bik")],
                 [vi("a", [2, 3, 4]), vi("b", [2, 4, 5])], [vi("y", None)], opset=12)


# ---- indexing ops (gather/scatter, depth/space, trilu, cumsum, onehot, topk, sum/mean, ...) ----
I64 = TensorProto.INT64


def idx_gather(out):
    return model([helper.make_node("GatherElements", ["x", "i"], ["a"], axis=1),
                  helper.make_node("GatherND", ["x", "j"], ["b"], batch_dims=0)],
                 [vi("x", [2, 3]), vi("i", [2, 2], I64), vi("j", [4, 2], I64)],
                 [vi("a", None), vi("b", None)])


def idx_scatter(out):
    return model([helper.make_node("ScatterElements", ["x", "i", "u"], ["a"], axis=0,
                                   reduction="add"),
                  helper.make_node("ScatterND", ["x", "j", "v"], ["b"])],
                 [vi("x", [3, 3]), vi("i", [2, 3], I64), vi("u", [2, 3]), vi("j", [2, 1], I64),
                  vi("v", [2, 3])], [vi("a", None), vi("b", None)], opset=18)


def idx_depth_space(out):
    return model([helper.make_node("DepthToSpace", ["x"], ["d"], blocksize=2, mode="CRD"),
                  helper.make_node("SpaceToDepth", ["d"], ["y"], blocksize=2)],
                 [vi("x", [1, 8, 2, 3])], [vi("y", None)])


def idx_trilu_cumsum(out):
    return model([helper.make_node("Trilu", ["x", "k"], ["t"], upper=0),
                  helper.make_node("CumSum", ["t", "axis"], ["y"], reverse=1)],
                 [vi("x", [3, 4])], [vi("y", None)],
                 [arr(np.int64(-1), "k"), arr(np.int32(1), "axis")], opset=14)


def idx_one_hot(out):
    return model([helper.make_node("OneHot", ["i", "depth", "vals"], ["y"], axis=1)],
                 [vi("i", [2, 3], I64)], [vi("y", None)],
                 [arr(np.float32(10), "depth"), arr(np.array([0, 1], dtype=np.float32), "vals")],
                 opset=11)


def idx_top_k(out):
    return model([helper.make_node("TopK", ["x", "K"], ["v", "i"], largest=0)],
                 [vi("x", [3, 4])], [vi("v", None), vi("i", None)],
                 [arr(np.array([2], dtype=np.int64), "K")], opset=11)


def idx_sum_mean(out):
    return model([helper.make_node("Sum", ["a", "b", "c"], ["s"]),
                  helper.make_node("Mean", ["s", "b"], ["y"])],
                 [vi("a", [2, 3]), vi("b", [3]), vi("c", [2, 1])], [vi("y", None)])


def idx_cast_like(out):
    return model([helper.make_node("CastLike", ["x", "like"], ["y"])],
                 [vi("x", [2])], [vi("y", None)],
                 [arr(np.array([1], dtype=np.float16), "like")], opset=15)


def idx_non_zero(out):
    return model([helper.make_node("NonZero", ["x"], ["y"])], [vi("x", [2, 2])],
                 [vi("y", None)], opset=13)


def idx_non_zero_const(out):
    return model([helper.make_node("NonZero", ["k"], ["n"]),
                  helper.make_node("Add", ["x", "n"], ["y"])],
                 [vi("x", [2, 2], I64)], [vi("y", None)],
                 [arr(np.array([[1, 0], [0, 3]], dtype=np.float32), "k")], opset=13)


NMS_BOXES = [[[0, 0, 1, 1], [0, 0.1, 1, 1.1], [0, -0.1, 1, 0.9], [0, 10, 1, 11],
              [0, 10.1, 1, 11.1], [0, 100, 1, 101]]]
NMS_SCORES = [[[0.9, 0.75, 0.6, 0.95, 0.5, 0.3]]]


def idx_nms_const(out):
    """NonMaxSuppression on initializers: folds in canonicalize."""
    return model([helper.make_node("NonMaxSuppression", ["b", "s", "m", "iou", "st"], ["sel"]),
                  helper.make_node("Add", ["x", "sel"], ["y"])],
                 [vi("x", [3, 3], I64)], [vi("y", None)],
                 [arr(np.array(NMS_BOXES, dtype=np.float32), "b"),
                  arr(np.array(NMS_SCORES, dtype=np.float32), "s"),
                  arr(np.array([3], dtype=np.int64), "m"),
                  arr(np.array([0.5], dtype=np.float32), "iou"),
                  arr(np.array([0.0], dtype=np.float32), "st")], opset=11)


def idx_nms(out):
    """NonMaxSuppression on graph inputs: the result type stays unknown."""
    return model([helper.make_node("NonMaxSuppression", ["b", "s", "m", "iou"], ["sel"],
                                   center_point_box=1)],
                 [vi("b", [1, 6, 4]), vi("s", [1, 1, 6]), vi("m", [1], I64), vi("iou", [1])],
                 [vi("sel", None)], opset=11)


# ---- losses and assorted ops (loss-*.test) ----

def loss_nll(out):
    return model([helper.make_node("NegativeLogLikelihoodLoss", ["x", "t", "w"], ["y"],
                                   reduction="sum", ignore_index=-1)],
                 [vi("x", [3, 5, 2]), vi("t", [3, 2], TensorProto.INT64), vi("w", [5])],
                 [vi("y", [])], opset=13)


def loss_sce(out):
    return model([helper.make_node("SoftmaxCrossEntropyLoss", ["x", "t"], ["y", "lp"],
                                   reduction="none")],
                 [vi("x", [3, 5]), vi("t", [3], TensorProto.INT32)],
                 [vi("y", [3]), vi("lp", [3, 5])], opset=13)


def loss_bit_shift(out):
    u = TensorProto.UINT32
    return model([helper.make_node("BitShift", ["a", "b"], ["y"], direction="RIGHT")],
                 [vi("a", [2, 3], u), vi("b", [3], u)], [vi("y", [2, 3], u)], opset=11)


def loss_eye_like(out):
    return model([helper.make_node("EyeLike", ["x"], ["y"], k=1, dtype=TensorProto.INT32)],
                 [vi("x", [3, 4])], [vi("y", [3, 4], TensorProto.INT32)], opset=9)


def loss_reverse_sequence(out):
    return model([helper.make_node("ReverseSequence", ["x", "l"], ["y"], batch_axis=0,
                                   time_axis=1)],
                 [vi("x", [2, 4, 3]), vi("l", [2], TensorProto.INT64)], [vi("y", [2, 4, 3])],
                 opset=10)


def loss_dynamic_quantize(out):
    u8 = TensorProto.UINT8
    return model([helper.make_node("DynamicQuantizeLinear", ["x"], ["y", "s", "z"])],
                 [vi("x", [2, 3])], [vi("y", [2, 3], u8), vi("s", []), vi("z", [], u8)],
                 opset=11)


def loss_mvn(out):
    return model([helper.make_node("MeanVarianceNormalization", ["x"], ["y"], axes=[1, 2])],
                 [vi("x", [2, 3, 4])], [vi("y", [2, 3, 4])], opset=13)


def loss_global_lp_pool(out):
    return model([helper.make_node("GlobalLpPool", ["x"], ["y"], p=3)],
                 [vi("x", [1, 3, 4, 4])], [vi("y", [1, 3, 1, 1])], opset=13)


# ---- import gaps: operand forms, cast targets, dropout masks, pool indices (gap-*.test) ----

def gap_trilu_dyn(out):
    return model([helper.make_node("Trilu", ["x", "k"], ["y"], upper=0)],
                 [vi("x", [3, 4]), vi("k", [], TensorProto.INT64)], [vi("y", None)], opset=14)


def gap_cum_sum_dyn(out):
    return model([helper.make_node("CumSum", ["x", "a"], ["y"])],
                 [vi("x", [3, 4]), vi("a", [], TensorProto.INT32)], [vi("y", None)])


def gap_one_hot_dyn(out):
    return model([helper.make_node("OneHot", ["i", "d", "v"], ["y"], axis=0)],
                 [vi("i", [3], TensorProto.INT64), vi("d", [], F)], [vi("y", None)],
                 [arr(np.array([0, 1], dtype=np.float32), "v")], opset=11)


def gap_top_k_dyn(out):
    return model([helper.make_node("TopK", ["x", "k"], ["v", "i"])],
                 [vi("x", [3, 4]), vi("k", [1], TensorProto.INT64)], [vi("v", None),
                                                                       vi("i", None)])


def gap_cast_unknown(out):
    return model([helper.make_node("Range", ["s", "n", "d"], ["r"]),
                  helper.make_node("Cast", ["r"], ["y"], to=F)],
                 [vi("n", [], TensorProto.INT64)], [vi("y", None)],
                 [arr(np.int64(0), "s"), arr(np.int64(1), "d")], opset=13)


def gap_dropout_ratio(out):
    return model([helper.make_node("Dropout", ["x", "r"], ["y", "mask"])],
                 [vi("x", [2, 3]), vi("r", [])], [vi("y", None), vi("mask", None)])


def gap_max_pool_indices(out):
    return model([helper.make_node("MaxPool", ["x"], ["y", "i"], kernel_shape=[2, 2],
                                   storage_order=1)],
                 [vi("x", [1, 1, 4, 4])], [vi("y", None), vi("i", None)], opset=12)


def gap_conv_transpose_output_shape(out):
    w = np.ones((1, 2, 3, 3), dtype=np.float32)
    return model([helper.make_node("ConvTranspose", ["x", "w"], ["y"], strides=[3, 2],
                                   output_shape=[10, 8])],
                 [vi("x", [1, 1, 3, 3])], [vi("y", None)], [arr(w, "w")])


def gap_reduce_noop_dyn(out):
    return model([helper.make_node("ReduceSum", ["x", "a"], ["y"], noop_with_empty_axes=1)],
                 [vi("x", [2, 3]), vi("a", [1], TensorProto.INT64)], [vi("y", None)])


def gap_resize_exclude(out):
    return model([helper.make_node("Resize", ["x", "", "scales"], ["y"], mode="cubic",
                                   cubic_coeff_a=-0.5, exclude_outside=1)],
                 [vi("x", [1, 1, 2, 2])], [vi("y", None)],
                 [arr(np.array([1, 1, 2, 2], dtype=np.float32), "scales")])


CASES = {k: v for k, v in dict(globals()).items() if callable(v) and k not in
         ("model", "vi", "arr", "main")}


def main():
    if sys.argv[1:] == ["--list"]:
        print("\n".join(sorted(CASES)))
        return
    case, out = sys.argv[1], sys.argv[2]
    m = CASES[case](out)
    data = m.SerializeToString()
    if case == "truncated":
        data = data[: len(data) // 2]
    with open(out, "wb") as f:
        f.write(data)


def truncated(out):
    return conv_relu(out)


def corrupt(out):
    return conv_relu(out)


if __name__ == "__main__":
    CASES.update(truncated=truncated, corrupt=corrupt)
    main()

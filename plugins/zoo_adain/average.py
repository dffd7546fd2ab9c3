"""Weight averaging of a run's kept decoders (stochastic weight averaging, Izmailov et al. 2018), and writing
the average into an exported model file.

How the default ``adain.zoo`` of 2026-12-06 (seventh session) was made: a run at a constant learning rate
kept its decoder every 250 steps, and the published decoder is the mean of all 30 of them.

- ``TrainConfig.keep_saves`` (``--keep-saves``): at every save (``--save-every N`` steps) the run also keeps
  its decoder as ``RUN/saves/decoder_step_NNNNNNN.safetensors`` (:func:`keep_decoder`), so nothing overwrites it.
- :func:`average_decoders`: the mean of the kept decoders' tensors, summed in float64 and cast back.
- :func:`write_into_model`: an exported ``model.safetensors`` (``decoder.*`` beside ``encoder.*``) with its
  decoder replaced, every other tensor as it was, written deterministically.

    python -m zoo_adain.average --into FOLDER/model.safetensors RUN/saves/decoder_step_*.safetensors

An input may also be an exported ``model.safetensors`` (its ``decoder.*`` tensors are read), so the mean of a
card's decoder and a run's average (a two-model soup along one fine-tuning path) is

    python -m zoo_adain.average --into FOLDER/model.safetensors cards/zoo/adain-zoo/model.safetensors AVG/model.safetensors

Then ``zoo eval FOLDER --data ../shared/data/style-transfer`` scores the folder.
"""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Sequence
from pathlib import Path

import torch

from zoo.errors import ConfigError

SAVES_DIR = "saves"


def kept_name(step: int) -> str:
    return f"decoder_step_{step:07d}.safetensors"


def kept_step(path: Path | str) -> int:
    """The step of a kept decoder's file name (the inverse of :func:`kept_name`)."""
    stem = Path(path).name.removesuffix(".safetensors")
    if not stem.startswith("decoder_step_") or not stem[len("decoder_step_"):].isdigit():
        raise ConfigError(f"{path}: not a kept decoder (decoder_step_NNNNNNN.safetensors)")
    return int(stem[len("decoder_step_"):])


def keep_decoder(run_dir: Path, step: int) -> Path:
    """Copy the run's ``decoder.safetensors`` (just written for ``step``) to ``RUN/saves/``."""
    dest = Path(run_dir) / SAVES_DIR / kept_name(step)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(".tmp")
    shutil.copyfile(Path(run_dir) / "decoder.safetensors", tmp)
    tmp.replace(dest)
    return dest


def decoder_tensors(path: Path | str) -> dict[str, torch.Tensor]:
    """The decoder in ``path``: a run's decoder file as it is, or the ``decoder.*`` tensors of an exported
    ``model.safetensors`` (the prefix removed, the encoder left out)."""
    from safetensors.torch import load_file

    if not Path(path).is_file():
        raise ConfigError(f"{path}: no such file; pass kept decoders (RUN/saves/decoder_step_*.safetensors) "
                          "or exported model.safetensors files")
    sd = load_file(str(path))
    return decoder_part(sd) or sd


def decoder_part(model_state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The ``decoder.*`` tensors of an exported model's state, named without the prefix (empty if none)."""
    return {k.removeprefix("decoder."): v for k, v in model_state.items() if k.startswith("decoder.")}


def average_decoders(paths: Sequence[Path | str]) -> dict[str, torch.Tensor]:
    """The mean of the decoders in ``paths`` (a run's ``decoder.safetensors`` files or exported models, read by
    :func:`decoder_tensors`: the same names, shapes and dtypes in each), summed in float64 and cast back to each
    tensor's dtype."""
    if not paths:
        raise ConfigError("no decoder files to average; pass the run's saves (RUN/saves/decoder_step_*.safetensors)")
    first = decoder_tensors(paths[0])
    sums = {k: v.double() for k, v in first.items()}
    for p in paths[1:]:
        sd = decoder_tensors(p)
        if sd.keys() != first.keys():
            raise ConfigError(f"{p}: its tensors are not those of {paths[0]}; average saves of one run only")
        for k, v in sd.items():
            if v.shape != first[k].shape or v.dtype != first[k].dtype:
                raise ConfigError(f"{p}: {k} is {tuple(v.shape)} {v.dtype}, {tuple(first[k].shape)} "
                                  f"{first[k].dtype} in {paths[0]}; average saves of one run only")
            sums[k] += v.double()
    return {k: (s / len(paths)).to(first[k].dtype).contiguous() for k, s in sums.items()}


def write_into_model(model_file: Path | str, decoder: dict[str, torch.Tensor]) -> Path:
    """Replace the ``decoder.*`` tensors of an exported ``model_file`` with ``decoder`` (a run's decoder names,
    without the prefix); every other tensor is kept as it was. Written deterministically, as exports are."""
    from safetensors.torch import load_file

    from .convert import save_safetensors_deterministic

    model_file = Path(model_file)
    if not model_file.is_file():
        raise ConfigError(f"{model_file}: no such model file; pass an exported folder's model.safetensors")
    sd = load_file(str(model_file))
    have = set(decoder_part(sd))
    if have != set(decoder):
        raise ConfigError(f"{model_file}: its decoder has other tensors than the averaged one "
                          f"({len(have)} against {len(decoder)}); use a folder exported from the same architecture")
    for k, v in decoder.items():
        old = sd["decoder." + k]
        if v.shape != old.shape:
            raise ConfigError(f"{model_file}: decoder.{k} is {tuple(old.shape)}, the average's {tuple(v.shape)}")
        sd["decoder." + k] = v.to(old.dtype).contiguous()
    save_safetensors_deterministic(sd, str(model_file), {"format": "pt"})
    return model_file


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m zoo_adain.average",
                                description="average a run's kept decoders into an exported model.safetensors")
    p.add_argument("--into", required=True, help="the exported folder's model.safetensors to write the average into")
    p.add_argument("decoders", nargs="+",
                   help="the kept decoders (RUN/saves/decoder_step_*.safetensors) or exported model.safetensors files")
    a = p.parse_args(argv)
    out = write_into_model(a.into, average_decoders([Path(d) for d in a.decoders]))
    print(f"{out}: decoder replaced by the mean of {len(a.decoders)} decoders")


if __name__ == "__main__":
    main()

"""Datasets for training and evaluation: MNIST, Fashion-MNIST and CIFAR-10.

Read from a folder the user gives (never a hard-coded path):

- ``mnist`` / ``fashion-mnist``: the four standard IDX files
  (``train-images-idx3-ubyte.gz`` ...), gzipped or not, as downloaded from
  their usual homes (e.g. ``torchvision.datasets.MNIST(root, download=True)``
  puts them in ``root/MNIST/raw``; that folder works too).
- ``cifar10``: the standard python tarball ``cifar-10-python.tar.gz`` (or its
  extracted ``cifar-10-batches-py`` folder), or a zip of JPEGs laid out
  ``train/<class>/NNNN.jpg`` and ``test/<class>/NNNN.jpg`` (read directly from
  the zip; a lossy copy, and the dataset says so).

Every known file is checked against its published sha256 the first time it is
read in a process; the digests are kept for the model card.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import pickle
import struct
import tarfile
import zipfile
from typing import Any
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..errors import DataError

DATASETS = ("mnist", "fashion-mnist", "cifar10")

# sha256 of the standard files (the gzipped IDX files are byte-identical to the originals)
KNOWN_SHA256: dict[str, dict[str, str]] = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    },
    "cifar10": {
        # the JPEG (quality 75) copy of CIFAR-10 kept for offline work
        "CIFAR-10-images.zip": "f3067ae60c6cbd5d0bcaff2a5c3b901076c7d39eb7633fdec6c93a9b0ccb7e2b",
    },
}
# the python tarball is published with an md5 only (www.cs.toronto.edu/~kriz/cifar.html)
KNOWN_MD5 = {"cifar-10-python.tar.gz": "c58f30108f718f92721af3b95e74349a"}

DOWNLOAD_HINT = {
    "mnist": "download with `python -c \"import torchvision; torchvision.datasets.MNIST('data', download=True)\"` "
    "and pass --data data/MNIST/raw",
    "fashion-mnist": "download with `python -c \"import torchvision; torchvision.datasets.FashionMNIST('data', "
    "download=True)\"` and pass --data data/FashionMNIST/raw",
    "cifar10": "download https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz and pass its folder as --data",
}

CLASSES = {
    "mnist": tuple(str(i) for i in range(10)),
    "fashion-mnist": (
        "t-shirt/top", "trouser", "pullover", "dress", "coat",
        "sandal", "shirt", "sneaker", "bag", "ankle boot",
    ),
    "cifar10": (
        "airplane", "automobile", "bird", "cat", "deer",
        "dog", "frog", "horse", "ship", "truck",
    ),
}

_checked: dict[Path, str] = {}


@dataclass
class ImageData:
    """A whole split in memory: uint8 images (N, C, H, W) and int64 labels (N,)."""

    name: str
    split: str
    images: torch.Tensor
    labels: torch.Tensor
    files: dict[str, str] = field(default_factory=dict)  # file name -> sha256
    note: str = ""  # e.g. "lossy JPEG copy"

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def shape(self) -> tuple[int, int, int]:
        c, h, w = self.images.shape[1:]
        return int(c), int(h), int(w)

    def resized(self, size: int) -> ImageData:
        """The same data at ``size`` x ``size`` (bilinear, antialiased), still uint8."""
        if self.images.shape[-1] == size and self.images.shape[-2] == size:
            return self
        out = []
        for chunk in self.images.split(4096):
            x = torch.nn.functional.interpolate(
                chunk.float(), size=(size, size), mode="bilinear", antialias=True, align_corners=False
            )
            out.append(x.round().clamp(0, 255).to(torch.uint8))
        return ImageData(self.name, self.split, torch.cat(out), self.labels, dict(self.files), self.note)

    def to_unit(self, idx: torch.Tensor | slice | None = None) -> torch.Tensor:
        """float images in [0, 1]."""
        x = self.images if idx is None else self.images[idx]
        return x.float().div_(255.0)

    def to_tanh(self, idx: torch.Tensor | slice | None = None) -> torch.Tensor:
        """float images in [-1, 1], as a tanh generator outputs them."""
        return self.to_unit(idx).mul_(2.0).sub_(1.0)


def sha256_file(path: Path, *, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _md5_file(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def check_file(dataset: str, path: Path, *, verify: bool = True) -> str:
    """The file's sha256; when it is a known file, raise DataError if it differs."""
    path = Path(path).resolve()
    if path in _checked:
        return _checked[path]
    digest = sha256_file(path)
    if verify:
        expected = KNOWN_SHA256.get(dataset, {}).get(path.name)
        if expected is not None and digest != expected:
            raise DataError(
                f"{path} has sha256 {digest}, but the standard {dataset} file {path.name} has {expected}. "
                f"The file is damaged or not the original: download it again ({DOWNLOAD_HINT[dataset]})."
            )
        md5 = KNOWN_MD5.get(path.name)
        if md5 is not None and _md5_file(path) != md5:
            raise DataError(
                f"{path} has not the published md5 {md5} of {path.name}: download it again "
                f"({DOWNLOAD_HINT[dataset]})."
            )
    _checked[path] = digest
    return digest


def _find(root: Path, names: list[str], dataset: str) -> Path:
    for name in names:
        for cand in (root / name, root / "raw" / name):
            if cand.exists():
                return cand
    raise DataError(
        f"no {' or '.join(names)} in {root}: give the folder that holds the {dataset} files; "
        f"{DOWNLOAD_HINT[dataset]}"
    )


def _open_maybe_gz(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def _read_idx(raw: bytes, path: Path) -> np.ndarray:
    if len(raw) < 4:
        raise DataError(f"{path} is truncated: download it again")
    zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype_code != 0x08:
        raise DataError(f"{path} is not an IDX file of unsigned bytes (magic {raw[:4].hex()})")
    dims = struct.unpack(">" + "I" * ndim, raw[4 : 4 + 4 * ndim])
    body = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise DataError(f"{path} holds {body.size} bytes, its header says {dims}: download it again")
    return body.reshape(dims)


def load_idx(dataset: str, root: str | Path, split: str = "train", *, verify: bool = True) -> ImageData:
    """MNIST or Fashion-MNIST from the standard IDX files in ``root``."""
    root = Path(root)
    prefix = "train" if split == "train" else "t10k"
    files = {}
    arrays = []
    for kind in ("images-idx3-ubyte", "labels-idx1-ubyte"):
        base = f"{prefix}-{kind}"
        path = _find(root, [base + ".gz", base], dataset)
        files[path.name] = check_file(dataset, path, verify=verify)
        arrays.append(_read_idx(_open_maybe_gz(path), path))
    images, labels = arrays
    if images.ndim != 3 or images.shape[0] != labels.shape[0]:
        raise DataError(f"{dataset} {split}: {images.shape[0]} images but {labels.shape[0]} labels in {root}")
    x = torch.from_numpy(images.copy()).unsqueeze(1)
    y = torch.from_numpy(labels.astype(np.int64))
    return ImageData(dataset, split, x, y, files)


class _ArraysOnly(pickle.Unpickler):
    """Unpickles CIFAR-10's python batches (dicts of numpy arrays and lists) and nothing else:
    any other global in the stream (a function to call, a class to build) is refused."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self._ALLOWED:
            raise DataError(
                f"this CIFAR-10 batch pickles {module}.{name}, which a real batch never does; refusing to "
                "unpickle it. Download cifar-10-python.tar.gz again from its official page."
            )
        return super().find_class(module, name)


def _unpickle_batch(f: Any) -> dict:
    """One CIFAR-10 python batch, read with :class:`_ArraysOnly` (no arbitrary code runs)."""
    try:
        d = _ArraysOnly(f, encoding="bytes").load()
    except DataError:
        raise
    except Exception as e:
        raise DataError(f"not a CIFAR-10 python batch ({type(e).__name__}: {e}); download it again") from e
    if not isinstance(d, dict) or b"data" not in d or b"labels" not in d:
        raise DataError("not a CIFAR-10 python batch (no data and labels); download it again")
    return d


def _load_cifar_tar(path: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    names = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
    xs, ys = [], []
    with tarfile.open(path, "r:gz") as tar:
        members = {Path(m.name).name: m for m in tar.getmembers() if m.isfile()}
        for n in names:
            if n not in members:
                raise DataError(f"{path} has no {n}: it is not the CIFAR-10 python tarball")
            f = tar.extractfile(members[n])
            assert f is not None
            d = _unpickle_batch(f)  # the official format is a pickle of arrays
            xs.append(np.asarray(d[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
            ys.append(np.asarray(d[b"labels"], dtype=np.int64))
    return np.concatenate(xs), np.concatenate(ys)


def _load_cifar_dir(folder: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    names = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
    xs, ys = [], []
    for n in names:
        with open(folder / n, "rb") as f:
            d = _unpickle_batch(f)
        xs.append(np.asarray(d[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
        ys.append(np.asarray(d[b"labels"], dtype=np.int64))
    return np.concatenate(xs), np.concatenate(ys)


def _load_cifar_zip(path: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    from PIL import Image

    classes = CLASSES["cifar10"]
    with zipfile.ZipFile(path) as zf:
        entries = []
        for name in zf.namelist():
            parts = name.strip("/").split("/")
            # allow one leading folder, e.g. CIFAR-10-images/train/cat/0001.jpg
            if len(parts) >= 3 and parts[-3] == split and parts[-1].lower().endswith((".jpg", ".jpeg", ".png")):
                if parts[-2] not in classes:
                    raise DataError(f"{path}: unknown class folder {parts[-2]!r} in {name}")
                entries.append((classes.index(parts[-2]), parts[-1], name))
        if not entries:
            raise DataError(f"{path} has no {split}/<class>/*.jpg entries: not a CIFAR-10 image zip")
        entries.sort()
        xs = np.empty((len(entries), 3, 32, 32), dtype=np.uint8)
        ys = np.empty(len(entries), dtype=np.int64)
        for i, (label, _, name) in enumerate(entries):
            with Image.open(io.BytesIO(zf.read(name))) as im:
                arr = np.asarray(im.convert("RGB"))
            if arr.shape != (32, 32, 3):
                raise DataError(f"{path}: {name} is {arr.shape}, expected 32x32 RGB")
            xs[i] = arr.transpose(2, 0, 1)
            ys[i] = label
    return xs, ys


def load_cifar10(root: str | Path, split: str = "train", *, verify: bool = True) -> ImageData:
    """CIFAR-10 from the python tarball (or its extracted folder) or a JPEG zip in ``root``."""
    root = Path(root)
    candidates = [root] if root.is_file() else [
        root / "cifar-10-python.tar.gz",
        root / "cifar-10-batches-py",
        root / "CIFAR-10-images.zip",
    ]
    for path in candidates:
        if not path.exists():
            continue
        if path.is_dir():
            x, y = _load_cifar_dir(path, split)
            return ImageData("cifar10", split, torch.from_numpy(x), torch.from_numpy(y), {path.name: "(folder)"})
        digest = check_file("cifar10", path, verify=verify)
        if path.suffix == ".zip":
            x, y = _load_cifar_zip(path, split)
            note = "lossy JPEG copy of CIFAR-10 (quality 75); metrics on it are not comparable with published ones"
        else:
            x, y = _load_cifar_tar(path, split)
            note = ""
        return ImageData("cifar10", split, torch.from_numpy(x), torch.from_numpy(y), {path.name: digest}, note)
    raise DataError(f"no CIFAR-10 files in {root}: {DOWNLOAD_HINT['cifar10']}")


def load_dataset(name: str, root: str | Path, split: str = "train", *, verify: bool = True) -> ImageData:
    """The ``split`` ("train" or "test") of dataset ``name`` read from ``root``."""
    name = name.lower().replace("_", "-")
    if name == "fashionmnist":
        name = "fashion-mnist"
    if split not in ("train", "test"):
        raise DataError(f"split must be 'train' or 'test', got {split!r}")
    if name in ("mnist", "fashion-mnist"):
        return load_idx(name, root, split, verify=verify)
    if name in ("cifar10", "cifar-10"):
        return load_cifar10(root, split, verify=verify)
    raise DataError(f"unknown dataset {name!r}; choose one of {list(DATASETS)}")


def resolve_data_dir(root: str | Path, dataset: str) -> Path:
    """``root`` itself, or its sub-folder named after the dataset when that is where the files are."""
    root = Path(root)
    for sub in (dataset, dataset.replace("-", "_"), {"cifar10": "cifar10-jpeg-q75"}.get(dataset, dataset)):
        if (root / sub).is_dir() and not any(root.glob("*-idx3-ubyte*")):
            return root / sub
    return root

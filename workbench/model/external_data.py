"""External-data weights: where they are, whether they are there, and whether reading is safe.

Locations come from the model file, which is untrusted: a location may only name a file
inside the model's folder. Anything else is refused before any file is opened.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from workbench.errors import MissingExternalDataError, UnsafeExternalDataError
from workbench.model.walk import ExternalTensor
from workbench.text import plural


@dataclass(frozen=True)
class ExternalData:
    """The external-data files a model refers to, relative to its folder."""

    files: tuple[str, ...]
    total_bytes: int
    missing: tuple[str, ...]
    short: tuple[str, ...]  # present but smaller than the tensors they should hold
    base_dir: Path | None

    @property
    def problem(self) -> MissingExternalDataError | None:
        """The error a session would hit, or None when every weight is on disk."""
        if not self.files:
            return None
        if self.base_dir is None:
            return MissingExternalDataError(
                f"The model keeps {plural(len(self.files), 'external-data file')} "
                f"({_listing(self.files)}) but was loaded from memory, so there is no folder "
                "to find them in.",
                "Load it from its path, or pass base_dir= to workbench.load().",
            )
        if self.missing:
            return MissingExternalDataError(
                f"{plural(len(self.missing), 'external-data file')} missing from the model's "
                f"folder {self.base_dir}: {_listing(self.missing)}.",
                "Copy the weight files the model was saved with into that folder; "
                "inspection works without them, running does not.",
            )
        if self.short:
            return MissingExternalDataError(
                f"{plural(len(self.short), 'external-data file')} in {self.base_dir} "
                f"shorter than the tensors the model reads from them: {_listing(self.short)}.",
                "The copy is probably incomplete; copy the weight files again.",
            )
        return None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: `files`, `total_bytes`, `missing`, `short`."""
        return {
            "files": list(self.files),
            "total_bytes": self.total_bytes,
            "missing": list(self.missing),
            "short": list(self.short),
        }


def resolve(tensors: list[ExternalTensor], base_dir: Path | None) -> ExternalData:
    """Check each referenced file exists and is long enough; refuse unsafe locations."""
    for tensor in tensors:
        _require_safe_location(tensor)
    files = tuple(dict.fromkeys(t.location for t in tensors))
    needed: dict[str, int] = {}
    for tensor in tensors:
        needed[tensor.location] = max(needed.get(tensor.location, 0), tensor.offset + tensor.length)
    missing: list[str] = []
    short: list[str] = []
    if base_dir is not None:
        for name in files:
            path = base_dir / name
            if not _is_inside(path, base_dir):
                raise _unsafe(name, next(t.tensor for t in tensors if t.location == name))
            size = _file_size(path)
            if size is None:
                missing.append(name)
            elif size < needed[name]:
                short.append(name)
    return ExternalData(
        files=files,
        total_bytes=sum(t.length for t in tensors),
        missing=tuple(missing),
        short=tuple(short),
        base_dir=base_dir,
    )


def _file_size(path: Path) -> int | None:
    """The size of the regular file at `path`, or None when there is none to read.

    The name comes from the model: it may be too long, or pass through an unreadable folder.
    """
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_size if stat.S_ISREG(info.st_mode) else None


def _require_safe_location(tensor: ExternalTensor) -> None:
    location = tensor.location
    posix, windows = PurePosixPath(location), PureWindowsPath(location)
    if (
        not location
        or "\x00" in location
        or posix.is_absolute()
        or windows.is_absolute()
        or windows.drive
        or ".." in posix.parts
        or ".." in windows.parts
    ):
        raise _unsafe(location, tensor.tensor)


def _is_inside(path: Path, base_dir: Path) -> bool:
    # resolve() follows symlinks, so a link inside the folder cannot point out of it.
    return path.resolve().is_relative_to(base_dir.resolve())


def _unsafe(location: str, tensor: str) -> UnsafeExternalDataError:
    return UnsafeExternalDataError(
        f"Tensor {_short(tensor)!r} stores its weights at {_short(location)!r}, which is not a "
        "file inside the model's folder. onnx-workbench refuses to read it.",
        "External-data locations must be relative paths inside the model's folder. If you "
        "made this model, save it again with onnx.save(..., save_as_external_data=True, "
        "location='weights.bin').",
    )


def _short(name: str, limit: int = 80) -> str:
    """A name from the model, cut to fit in a message."""
    return name if len(name) <= limit else f"{name[: limit - 1]}\N{HORIZONTAL ELLIPSIS}"


def _listing(names: tuple[str, ...], limit: int = 5) -> str:
    shown = ", ".join(repr(_short(n)) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")

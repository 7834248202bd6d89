"""Checkpoints of a sweep: finished rows as JSON lines, so a long sweep can resume.

The first line says what was measured (the model's hash, the machine, the settings); each
line after it is a finished configuration with its raw samples. `benchmark(resume=True)`
runs only the configurations missing from it, and refuses, naming the difference, when
the model or the machine changed: rows from another setup would make a report that lies.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from workbench.bench.config import BenchConfig
from workbench.bench.results import UNSCHEDULED, ConfigResult
from workbench.cache import cache_dir
from workbench.errors import WorkbenchError

# What must match for rows to be reused (the machine's identity, not its momentary state).
_MACHINE = ("cpu", "cpu_cores", "onnxruntime", "onnx_workbench")
_FINAL = ("ok", "skipped", "failed")  # a partial row (cancelled, crashed) is measured again
# Rows the machine lost rather than measured (its process or node died, no node could take
# it): measured again too, so resuming after a node failure fills them in.
_LOST = ("worker died", UNSCHEDULED)
KEPT_IN_CACHE = 32  # checkpoints the cache keeps (the most recent); a named one is yours


class Checkpoint:
    """The finished rows of one sweep, on disk."""

    def __init__(self, path: Path, header: dict[str, Any], done: dict[Any, ConfigResult]) -> None:
        self.path = path
        self.header = header
        self.done = done

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str] | None,
        *,
        model_sha256: str,
        environment: dict[str, Any],
        settings: dict[str, Any],
        configs: list[BenchConfig],
        resume: bool,
    ) -> Checkpoint:
        """The checkpoint at `path` (or in the cache, named by the sweep), resumed or new."""
        header = {"model_sha256": model_sha256, "machine": machine(environment),
                  "settings": settings}  # fmt: skip
        if path is None:
            identity = json.dumps([model_sha256, settings, [c.as_dict() for c in configs]],
                                  sort_keys=True, default=str)  # fmt: skip
            path = (
                cache_dir("sweeps") / f"{hashlib.sha256(identity.encode()).hexdigest()[:24]}.jsonl"
            )
        target = Path(path)
        done: dict[Any, ConfigResult] = {}
        if resume and target.is_file():
            done = _read(target, header)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(header) + "\n", encoding="utf-8")
        if resume and done:
            # Start the file again with the rows kept, so it never holds two of one row.
            lines = [json.dumps(header)] + [json.dumps(r.as_dict()) for r in done.values()]
            target.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return cls(target, header, done)

    def add(self, result: ConfigResult) -> None:
        """Append a finished row (a partial or lost one is left out: it is measured again)."""
        if result.status not in _FINAL or result.stop_reason in _LOST:
            return
        with self.path.open("a", encoding="utf-8") as file:
            file.write(json.dumps(result.as_dict()) + "\n")


def _prune(folder: Path) -> None:
    """Keep the cache's most recent checkpoints only: each holds every raw sample."""
    found = sorted(folder.glob("*.jsonl"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in found[KEPT_IN_CACHE - 1 :]:
        old.unlink(missing_ok=True)


def machine(environment: dict[str, Any]) -> dict[str, Any]:
    """The parts of an environment fingerprint that must match for rows to be comparable."""
    found = {key: environment.get(key) for key in _MACHINE}
    found["gpus"] = [(g.get("name"), g.get("driver_version")) for g in environment.get("gpus", [])]
    return found


def _read(path: Path, header: dict[str, Any]) -> dict[Any, ConfigResult]:
    lines = path.read_text(encoding="utf-8").splitlines()
    try:
        stored = json.loads(lines[0]) if lines else {}
        rows = [ConfigResult.from_dict(json.loads(line)) for line in lines[1:] if line.strip()]
    except (ValueError, KeyError, TypeError) as error:
        raise WorkbenchError(
            f"The checkpoint {str(path)!r} cannot be read ({error}).",
            "Run the sweep again without resume=True (it starts a new checkpoint).",
        ) from None
    if stored.get("model_sha256") != header["model_sha256"]:
        raise WorkbenchError(
            "Cannot resume: the checkpoint measured another model file (sha256 "
            f"{str(stored.get('model_sha256'))[:12]}, this one {header['model_sha256'][:12]}).",
            "Run without resume=True, or resume with the model the sweep started with.",
        )
    changed = [k for k, v in header["machine"].items() if stored.get("machine", {}).get(k) != v]
    if changed:
        raise WorkbenchError(
            f"Cannot resume: the machine changed since the checkpoint ({', '.join(changed)}).",
            "Rows from two setups would make one report that mixes them; run without "
            "resume=True to start again here.",
        )
    return {r.config.key: r for r in rows if r.status in _FINAL and r.stop_reason not in _LOST}

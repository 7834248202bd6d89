"""What every hostile input goes through: load, every kind of inspection, check and a run."""

from __future__ import annotations

import tempfile
import warnings
import zlib
from pathlib import Path

import workbench

CONTAINED = "contained"  # outcome prefix: onnxruntime crashed or hung inside the worker


def exercise(source: object) -> str:
    """Load, inspect every way, check and run once in this process; the outcome in words.

    A `WorkbenchError` is an accepted outcome; any other exception propagates: it is a bug.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model, refusal = _load_and_inspect(source)
        if model is None:
            return refusal
        try:
            model.check()
            model.run()
        except workbench.WorkbenchError as error:
            assert error.message
            return f"refused: {type(error).__name__}"
        finally:
            model.close()
    return "ran"


def exercise_isolated(source: object) -> str:
    """Load and inspect here; create the session and run through the isolated executor, so
    a crash inside onnxruntime is contained, and reported as a "contained" outcome."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model, refusal = _load_and_inspect(source)
        if model is None:
            return refusal
        try:
            result = workbench.benchmark(
                model, ["cpu"], executor="worker", runs=1, warmup=0, progress=False,
                run_timeout=10,
            )  # fmt: skip
        except workbench.WorkbenchError as error:
            return f"refused: {type(error).__name__}"
    (row,) = result.results
    if row.status == "ok":
        return "ran"
    if row.stop_reason in ("worker died", "worker hung"):
        return f"{CONTAINED}: {row.reason}"
    return "refused: failed row"


def _load_and_inspect(source: object) -> tuple[workbench.Model | None, str]:
    if isinstance(source, bytes) and zlib.crc32(source) % 2:  # half the cases from a file:
        folder = Path(tempfile.mkdtemp(prefix="hostile-"))  # external data resolves there
        (folder / "model.onnx").write_bytes(source)
        source = folder / "model.onnx"
    try:
        model = workbench.load(source)
    except workbench.WorkbenchError as error:
        assert error.message and error.hint is not None
        return None, f"refused at load: {type(error).__name__}"
    model.as_dict()
    repr(model)
    model._repr_html_()
    model.text()
    model.graph_text()
    return model, ""

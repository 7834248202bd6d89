"""Load and inspection speed (issue 2's goals). Run: python tests/perf/bench_load.py

- load + full inspection of a model with >= 2 GB of external weights: < 1 s, < 200 MB RSS growth;
- a 500 MB single-file model: inspection within 1.3x of a bare onnx.load; sha256 and the
  checker timed separately;
- `python -c "import workbench"` under 0.3 s.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import in_fresh_process, report

GiB, MiB = 2**30, 2**20


def chain_model(tensors: list[TensorProto], width: int) -> onnx.ModelProto:
    """x -> Add(w0) -> Add(w1) ... one node per weight, each weight [rows, width] float32."""
    nodes, previous = [], "x"
    for index, tensor in enumerate(tensors):
        nodes.append(helper.make_node("Add", [previous, tensor.name], [f"h{index}"]))
        previous = f"h{index}"
    graph = helper.make_graph(
        nodes,
        "chain",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["rows", width])],
        [helper.make_tensor_value_info(previous, TensorProto.FLOAT, ["rows", width])],
        initializer=tensors,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def external_model(folder: Path, total: int, count: int = 256) -> Path:
    """A model whose `total` bytes of weights live in one sparse external file."""
    per_tensor = total // count
    rows = per_tensor // (4 * 1024)
    tensors = []
    for index in range(count):
        tensor = TensorProto(name=f"w{index}", data_type=TensorProto.FLOAT, dims=[rows, 1024])
        tensor.data_location = TensorProto.EXTERNAL
        for key, value in (
            ("location", "weights.bin"),
            ("offset", str(index * per_tensor)),
            ("length", str(rows * 1024 * 4)),
        ):
            entry = tensor.external_data.add()
            entry.key, entry.value = key, value
        tensors.append(tensor)
    with (folder / "weights.bin").open("wb") as stream:
        stream.truncate(count * per_tensor)  # sparse: no disk space, no write time
    path = folder / "external.onnx"
    onnx.save_model(chain_model(tensors, 1024), path)
    return path


def single_file_model(folder: Path, total: int, count: int = 200) -> Path:
    rows = total // count // (4 * 1024)
    rng = np.random.default_rng(0)
    tensors = [
        onnx.numpy_helper.from_array(rng.random((rows, 1024), dtype=np.float32), f"w{i}")
        for i in range(count)
    ]
    path = folder / "single.onnx"
    onnx.save_model(chain_model(tensors, 1024), path)
    return path


def measure_external(path: Path, *, warm: bool) -> dict[str, float]:
    """Time and RSS growth of load + inspection in a fresh process.

    Cold: the clock starts before `import workbench`, so onnx and onnxruntime imports and
    the runtime probe count. Warm: those happen first; only load + inspection is measured.
    """
    warm_up = (
        "import onnx, onnxruntime\nfrom workbench.ort.runtime import limits\nlimits()"
        if warm
        else ""
    )
    return in_fresh_process(f"""
import json, resource, time
{warm_up}
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
import workbench
model = workbench.load({str(path)!r})
summary = model.summary()
elapsed = time.perf_counter() - start
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
assert summary["external_data"]["total_bytes"] >= 2 * 2**30
print(json.dumps({{"seconds": elapsed, "rss_growth_mb": (after - before) / 1024}}))
""")


def timed(function, repeat: int = 5) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def inspect(path: Path) -> None:
    import workbench

    model = workbench.load(path)
    _ = (
        model.metadata,
        model.inputs,
        model.outputs,
        model.ops,
        model.parameter_count,
        model.initializer_bytes,
        model.external_data,
        model.compatibility,
    )


def import_seconds(repeat: int = 15) -> float:
    def run() -> None:
        subprocess.run([sys.executable, "-c", "import workbench"], check=True)

    return timed(run, repeat)


def main() -> int:
    import workbench

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        external = external_model(folder, 2 * GiB + 64 * MiB)
        for label, warm in (("cold", False), ("warm", True)):
            figures = measure_external(external, warm=warm)
            rows.append(
                (
                    f"2 GiB external, {label}: load + inspect",
                    f"{figures['seconds'] * 1e3:.0f} ms",
                    "< 1000 ms",
                    figures["seconds"] < 1,
                )
            )
            rows.append(
                (
                    f"2 GiB external, {label}: peak RSS growth",
                    f"{figures['rss_growth_mb']:.1f} MB",
                    "< 200 MB",
                    figures["rss_growth_mb"] < 200,
                )
            )

        single = single_file_model(folder, 500 * MiB)
        size_mb = single.stat().st_size / MiB
        inspect(single)  # warm the page cache and the runtime probe for both contenders
        bare = timed(lambda: onnx.load(single))
        ours = timed(lambda: inspect(single))
        rows.append((f"{size_mb:.0f} MB file: bare onnx.load", f"{bare * 1e3:.0f} ms", "-", True))
        rows.append(
            (
                f"{size_mb:.0f} MB file: load + inspect",
                f"{ours * 1e3:.0f} ms",
                f"<= {1.3 * bare * 1e3:.0f} ms",
                ours <= 1.3 * bare,
            )
        )
        rows.append(("  ratio to onnx.load", f"{ours / bare:.2f}x", "<= 1.30x", ours <= 1.3 * bare))
        model = workbench.load(single)
        sha = timed(lambda: workbench.load(single).sha256, repeat=3) - ours
        rows.append(("  sha256 (lazy, separate)", f"{sha * 1e3:.0f} ms", "-", True))
        check = timed(model.check, repeat=1)
        rows.append(("  onnx.checker (lazy, separate)", f"{check * 1e3:.0f} ms", "-", True))

    seconds = import_seconds()
    rows.append(
        ("python -c 'import workbench'", f"{seconds * 1e3:.0f} ms", "< 300 ms", seconds < 0.3)
    )
    return report(rows)


if __name__ == "__main__":
    raise SystemExit(main())

"""A core-only install: without the `jupyter` extra, everything but the notebook parts works,
and those say which extra to install. Simulated in a subprocess whose imports of the extra's
packages fail, as they would if they were not installed."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

# What the jupyter extra brings (and what the core must never need).
EXTRA = (
    "IPython",
    "ipywidgets",
    "ipykernel",
    "tornado",
    "jupyter_server",
    "jupyter_core",
)
HINT = 'pip install "onnx-workbench[jupyter]"'


def _without_extra(code: str) -> dict[str, object]:
    """Run `code` where the extra's packages cannot be imported; it prints a JSON object."""
    prelude = f"""
        import importlib.abc, sys
        class _Uninstalled(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in {EXTRA!r}:
                    raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
                return None
        sys.meta_path.insert(0, _Uninstalled())
    """
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(prelude) + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_star_import_works_and_the_explorer_names_the_extra() -> None:
    found = _without_extra("""
        import json
        from workbench import *
        import workbench
        out = {"names": sorted(n for n in workbench.__all__ if n in globals())}
        for name, call in (("explore", lambda: explore()), ("Explorer", lambda: Explorer())):
            try:
                call()
            except workbench.MissingDependencyError as error:
                out[name] = [type(error).__name__, str(error), isinstance(error, ImportError)]
        print(json.dumps(out))
    """)
    assert found["names"] == sorted(__import__("workbench").__all__)
    for name in ("explore", "Explorer"):
        kind, message, is_import_error = found[name]  # type: ignore[misc]
        assert kind == "MissingDependencyError" and is_import_error
        assert "onnx-workbench[jupyter]" in message and HINT in message
        assert "The explorer needs the ipywidgets package" in message


def test_the_core_runs_without_the_extra() -> None:
    found = _without_extra(
        """
        import json, sys, workbench
        model = workbench.load(workbench.demo_model())
        result = model.run()
        bench = workbench.benchmark(model, ["cpu"], [1], runs=5, warmup=1, progress=False)
        # The viewer is part of the core: the loopback fallback shows it, and the offline
        # file needs nothing installed.
        view = workbench.show_graph(model)
        import tempfile, pathlib
        offline = pathlib.Path(tempfile.mkdtemp()) / "graph.html"
        from workbench.cli.main import main
        cli = main(["run", str(workbench.demo_model()), "--json"])  # the CLI needs no extra
        graph = main(["graph", str(workbench.demo_model()), "--html", str(offline)])
        print(json.dumps({
            "cli": cli, "graph": graph, "offline": offline.stat().st_size,
            "ran": result.applied_providers, "measured": len(bench.measured),
            "view": view.mode, "note": view.note,
            "loaded": sorted(m for m in {EXTRA!r} if m in sys.modules),
        }))
    """.replace("{EXTRA!r}", repr(EXTRA))
    )
    assert found["ran"] == ["CPUExecutionProvider"] and found["measured"] == 1
    assert found["cli"] == 0 and found["graph"] == 0 and found["offline"] > 1_000_000
    assert found["view"] == "local"
    assert found["loaded"] == []


def test_the_magics_and_the_server_extension_name_the_extra() -> None:
    found = _without_extra("""
        import importlib, json, workbench
        out = {}
        for module in ("workbench.magics", "workbench.widgets", "workbench.server"):
            try:
                importlib.import_module(module)
            except workbench.MissingDependencyError as error:
                out[module] = str(error)
        print(json.dumps(out))
    """)
    assert set(found) == {"workbench.magics", "workbench.widgets", "workbench.server"}
    assert all(HINT in str(message) for message in found.values())

"""The built wheel, installed with plain pip into a fresh venv: JupyterLab lists the
prebuilt front-end extension and Jupyter Server enables the server extension, with no node
and no build step on the user's side."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import workbench

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(out)],
        check=True,
    )
    (built,) = out.glob("onnx_workbench-*.whl")
    return built


def test_the_wheel_carries_the_prebuilt_extension(wheel) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    share = [n for n in names if "/share/jupyter/labextensions/onnx-workbench/" in n]
    assert any(n.endswith("/package.json") for n in share)
    assert any(n.endswith("/install.json") for n in share)
    assert any("/static/remoteEntry." in n for n in share)
    assert any(n.endswith("etc/jupyter/jupyter_server_config.d/onnx-workbench.json") for n in names)
    # The graph viewer, built from the pinned netron: a wheel user needs neither node nor netron.
    assert "workbench/graphview/bundle/netron-viewer.html" in names
    assert "workbench/graphview/bundle/manifest.json" in names


@pytest.mark.timeout(600)
def test_a_plain_pip_install_enables_both_extensions(wheel, tmp_path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, f"{wheel}[jupyter]"], check=True)
    # No node on the PATH: nothing may need building once the wheel is installed.
    env = {**os.environ, "PATH": str(venv / "bin")}
    env.pop("JUPYTER_CONFIG_DIR", None)

    def jupyter(*args: str) -> str:
        done = subprocess.run(
            [str(venv / "bin" / "jupyter"), *args],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        return re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr)  # no colours

    lab = jupyter("labextension", "list")
    assert "onnx-workbench v0.1.0" in lab and "enabled" in lab and "OK" in lab, lab
    server = jupyter("server", "extension", "list")
    assert "workbench enabled" in server and re.search(r"workbench \S+ OK", server), server
    out = tmp_path / "graph.html"
    graph = subprocess.run(
        [
            str(venv / "bin" / "onnx-workbench"),
            "graph",
            str(workbench.demo_model()),
            "--html",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert graph.returncode == 0 and out.stat().st_size > 1_000_000, graph.stderr

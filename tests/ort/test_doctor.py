"""`workbench.doctor()` and `onnx-workbench doctor`: what is installed, imported and usable."""

from __future__ import annotations

import json
import subprocess
import sys

from workbench.ort.doctor import DoctorReport, InstalledPackage, _conflict, doctor

JSON_KEYS = {"onnxruntime", "packages_conflict", "providers", "gpus", "cpu"}


def test_report_names_the_imported_runtime() -> None:
    report = doctor()
    import onnxruntime

    assert report.version == onnxruntime.__version__
    assert report.imported_from.endswith("onnxruntime")
    assert report.package in {p.name for p in report.installed}
    assert "CPUExecutionProvider" in report.usable_providers
    assert report.cpu.logical_cores >= 1 and report.cpu.ram_bytes > 0


def test_json_has_the_documented_fields() -> None:
    data = doctor().as_dict()
    assert set(data) >= JSON_KEYS
    assert set(data["onnxruntime"]) >= {"package", "version", "cuda_version"}
    for provider in data["providers"]:
        assert set(provider) >= {"name", "compiled_in", "usable", "reason", "hint"}
    json.dumps(data)


def test_two_runtimes_installed_is_flagged_with_the_fix() -> None:
    message, hint = _conflict(
        (
            InstalledPackage("onnxruntime-gpu", "1.31.1", "/a"),
            InstalledPackage("onnxruntime", "1.32.0", "/b"),
        )
    )
    assert "2 ONNX Runtime packages are installed" in message
    assert "the one imported is" in message
    assert (
        hint
        == "Keep one: pip uninstall -y onnxruntime-gpu onnxruntime && pip install onnxruntime-gpu"
    )


def test_one_runtime_is_no_conflict() -> None:
    assert _conflict((InstalledPackage("onnxruntime-gpu", "1.31.1", "/a"),)) == ("", "")


def test_html_and_text_list_every_provider() -> None:
    report: DoctorReport = doctor()
    html = report._repr_html_()
    text = report.text()
    for status in report.providers:
        assert status.name in html and status.name in text
        if not status.usable:
            assert "not usable" in html.lower() and status.alias in text


def test_cli_doctor_json() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "workbench", "doctor", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    data = json.loads(result.stdout)
    assert set(data) >= JSON_KEYS
    assert result.stderr == ""

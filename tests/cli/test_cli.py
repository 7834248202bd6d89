"""`onnx-workbench info` as a user runs it: a real subprocess, stdout, stderr and exit code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import workbench
from tests.cli import cli

REQUIRED_KEYS = {
    "path",
    "sha256",
    "size_bytes",
    "ir_version",
    "opset_imports",
    "producer_name",
    "producer_version",
    "domain",
    "model_version",
    "doc_string",
    "graph_name",
    "metadata_props",
    "inputs",
    "outputs",
    "ops",
    "node_count",
    "parameter_count",
    "initializer_bytes",
    "external_data",
}


def test_info_json_has_every_documented_key(model_path) -> None:
    path = model_path("ml_classifier")
    result = cli("info", str(path), "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert set(info) >= REQUIRED_KEYS
    assert info["path"] == str(path)
    assert info["opset_imports"] == {"ai.onnx": 17, "ai.onnx.ml": 3}
    assert [o["type"] for o in info["outputs"]] == ["tensor", "sequence"]
    assert info["outputs"][1]["element"]["type"] == "map"
    assert info["ops"] == {"ai.onnx.ml::LinearClassifier": 1, "ai.onnx.ml::ZipMap": 1}
    assert info["external_data"] == {"files": [], "total_bytes": 0, "missing": [], "short": []}


def test_info_text_is_readable() -> None:
    result = cli("info", str(workbench.demo_model()))
    assert result.returncode == 0
    assert "Inputs (1)" in result.stdout and "image" in result.stdout
    assert result.stderr == ""


def test_info_check_reports_checker_complaints(model_path) -> None:
    from tests.conftest import ort_datasets

    (mul_1,) = [p for p in ort_datasets() if p.name == "mul_1.onnx"]
    result = cli("info", str(mul_1), "--check", "--json")
    assert result.returncode == 0
    assert json.loads(result.stdout)["check"]["runtime_accepts"] is True


def test_invalid_model_exits_non_zero_with_message(model_path) -> None:
    result = cli("info", str(model_path("checker_fails_runtime_refuses")), "--check")
    assert result.returncode == 1
    assert "error:" in result.stderr and "ghost" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("content", "fragment"),
    [(b"", "is empty"), (b"\x89PNG\r\n\x1a\n0000", "PNG image"), (b'{"a": 1}', "JSON file")],
)
def test_bad_files_exit_1_without_traceback(tmp_path, content: bytes, fragment: str) -> None:
    path = tmp_path / "bad.onnx"
    path.write_bytes(content)
    result = cli("info", str(path))
    assert result.returncode == 1
    assert fragment in result.stderr and "hint:" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_missing_file_exits_1() -> None:
    result = cli("info", "no/such/model.onnx")
    assert result.returncode == 1
    assert "No model file at 'no/such/model.onnx'" in result.stderr


def test_warnings_go_to_stdout_summary_not_stderr(model_path) -> None:
    result = cli("info", str(model_path("ir_stamped_too_new")))
    assert result.returncode == 0
    assert "with_ir_version" in result.stdout and result.stderr == ""


def test_usage_error_exits_2() -> None:
    result = cli("info")
    assert result.returncode == 2 and "usage:" in result.stderr


def test_bad_benchmark_limits_are_refused_before_measuring() -> None:
    demo = str(workbench.demo_model())
    word = cli("bench", demo, "--warmup", "abc")
    assert word.returncode == 2 and "'abc' is neither 'auto' nor a run count" in word.stderr
    negative = cli("bench", demo, "--runs", "-5")
    assert negative.returncode == 1 and "cannot use runs=-5" in negative.stderr
    assert "Traceback" not in word.stderr + negative.stderr


def test_bad_output_paths_fail_before_anything_runs(tmp_path) -> None:
    demo = str(workbench.demo_model())
    for flag, path, fragment in [
        ("--json", str(tmp_path / "out.csv"), "--json writes JSON, but"),
        ("--report", str(tmp_path / "missing" / "r.html"), "does not exist"),
        ("--md", str(tmp_path / "summary"), "Cannot tell the report format"),
    ]:
        done = cli("bench", demo, "--time-budget", "30", flag, path)
        assert done.returncode == 1 and fragment in done.stderr, done.stderr
        assert done.stdout == ""  # no table: nothing was measured
    saved = cli("run", demo, "--save", str(tmp_path / "missing" / "out.npz"))
    assert saved.returncode == 1 and "Cannot write" in saved.stderr
    assert "internal error" not in saved.stderr


def test_console_script_is_installed() -> None:
    # The script lives next to the interpreter running the tests (the venv's bin/).
    exe = Path(sys.executable).parent / "onnx-workbench"
    assert exe.is_file(), "install the package into this environment: pip install -e ."
    result = subprocess.run(
        [str(exe), "--version"], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == f"onnx-workbench {workbench.__version__}"


def test_a_closed_output_pipe_ends_quietly() -> None:
    # As `onnx-workbench info model.onnx | head -1` when head exits first: no "internal error".
    model = workbench.demo_model()
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "workbench", "info", str(model)],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    finally:
        os.close(write_end)
    assert done.returncode == 141
    assert done.stderr == ""


@pytest.mark.parametrize(
    "command",
    [
        ["info", "{model}"],
        ["run", "{model}"],
        ["compare", "{model}", "--providers", "cpu"],
        ["doctor"],
        ["bench", "{model}", "--runs", "6", "--warmup", "1"],
        ["report", "diff", "{report}", "{report}"],
    ],
)
def test_every_command_prints_one_json_object_and_writes_reports(command, tmp_path) -> None:
    # One convention: --json prints one object on stdout; --report PATH (repeatable) writes
    # files whose extension picks the format, and says so on stderr when stdout is JSON.
    report = tmp_path / "earlier.json"
    workbench.benchmark(workbench.demo_model(), runs=6, warmup=1, progress=False).report(report)
    args = [a.format(model=workbench.demo_model(), report=report) for a in command]
    html, data = tmp_path / "out.html", tmp_path / "out.json"
    result = cli(*args, "--json", "--report", str(html), "--report", str(data))
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert isinstance(printed, dict)
    assert json.loads(data.read_text()) == json.loads(json.dumps(printed))
    page = html.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page.replace(
        '<script type="application/json" id="onnx-workbench-data">', ""
    )
    assert f"wrote {html}" in result.stderr and f"wrote {data}" in result.stderr


def test_a_report_path_naming_no_format_fails_before_running(tmp_path) -> None:
    result = cli("compare", str(workbench.demo_model()), "--report", str(tmp_path / "out.txt"))
    assert result.returncode == 1
    assert "Cannot tell the report format from 'out.txt'" in result.stderr
    assert ".html, .json" in result.stderr and result.stdout == ""


def test_bench_json_file_still_works_with_a_deprecation_note(tmp_path) -> None:
    target = tmp_path / "old.json"
    result = cli("bench", str(workbench.demo_model()), "--runs", "6", "--json", str(target))
    assert result.returncode == 0, result.stderr
    assert "--json FILE is deprecated" in result.stderr and "--report" in result.stderr
    assert workbench.load_report(target).results[0].stats is not None
    assert "configuration" in result.stdout  # the table: --json FILE never meant "print JSON"


def test_bench_json_before_the_model_prints_json(tmp_path) -> None:
    result = cli("bench", "--json", str(workbench.demo_model()), "--runs", "6")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["results"][0]["n"] == 6
    assert "deprecated" not in result.stderr
    missing = cli("bench", "--json")
    assert missing.returncode == 2 and "required: model" in missing.stderr


def test_the_old_per_format_flags_still_write_with_a_note(tmp_path) -> None:
    table, summary = tmp_path / "t.csv", tmp_path / "s.md"
    result = cli(
        "bench", str(workbench.demo_model()), "--runs", "6", "--csv", str(table), "--md",
        str(summary),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    for flag, path in (("--csv", table), ("--md", summary)):
        assert f"{flag} FILE is deprecated" in result.stderr and path.stat().st_size > 0


def test_info_shortens_huge_metadata_and_full_shows_it(tmp_path) -> None:
    import onnx

    from tests import models

    proto = models.build("small_cnn")
    characters = "\n".join(f"char{i}" for i in range(18_000))
    onnx.helper.set_model_props(proto, {"character": characters})
    path = tmp_path / "ocr.onnx"
    onnx.save(proto, path)
    short = cli("info", str(path))
    assert short.returncode == 0 and len(short.stdout.splitlines()) < 200
    assert "character: char0" in short.stdout and "17,998 more lines" in short.stdout
    assert "--full" in short.stdout
    full = cli("info", str(path), "--full")
    assert "char17999" in full.stdout and len(full.stdout.splitlines()) > 18_000
    data = json.loads(cli("info", str(path), "--json").stdout)
    assert data["metadata_props"]["character"] == characters  # JSON is never shortened


def test_run_with_a_value_lists_every_input_and_what_was_given(model_path) -> None:
    path = model_path("vad_like")
    result = cli("run", str(path), "--value", "sr=16000", "--shapes", "audio=2x400", "--json")
    assert result.returncode == 0, result.stderr
    inputs = json.loads(result.stdout)["inputs"]
    assert inputs == [
        {"name": "audio", "dtype": "float32", "shape": [2, 400], "given": False},
        {"name": "sr", "dtype": "int64", "shape": [], "given": True},
    ]
    text = cli("run", str(path), "--value", "sr=16000").stdout
    assert "Inputs: audio synthetic [1, 64]; sr given []" in text


def test_inputs_from_a_file_may_be_a_subset(model_path, tmp_path) -> None:
    import numpy as np

    np.savez(tmp_path / "audio.npz", audio=np.ones((3, 160), np.float32))
    np.savez(tmp_path / "expected.npz", speech=np.full((3, 4), -1.0, np.float32))  # sr != 16000
    printed = {}
    for command in (
        ["run"],
        ["compare", "--providers", "cpu", "--expected", str(tmp_path / "expected.npz")],
        ["bench", "--runs", "3"],
    ):
        result = cli(
            *command, str(model_path("vad_like")), "--inputs", str(tmp_path / "audio.npz"),
            "--value", "sr=8000", "--json",
        )  # fmt: skip
        assert result.returncode == 0, (command, result.stderr)
        printed[command[0]] = json.loads(result.stdout)
    rows = printed["run"]["inputs"]
    assert [(r["name"], r["shape"], r["given"]) for r in rows] == [
        ("audio", [3, 160], True),
        ("sr", [], True),
    ]
    assert printed["compare"]["passed"]  # the else branch ran: the value reached the model
    (entry,) = printed["bench"]["results"]
    assert entry["measured_dims"] == {"samples": 160} and entry["measured_batch"] == 3
    assert printed["bench"]["settings"]["given_inputs"] == ["audio", "sr"]


@pytest.mark.parametrize(
    ("flags", "code", "fragment"),
    [
        (["--value", "sr=abc"], 1, "Input 'sr' is int64, and 'abc' is not a value"),
        (["--value", "sr=16000.5"], 1, "e.g. values={'sr': 16000} (--value sr=16000)"),
        (["--value", "sr_=1"], 1, "Did you mean 'sr'"),
        (["--value", "sr"], 2, "expected NAME=VALUE, got 'sr'"),
        (["--range", "audio=1:0"], 2, "the low bound must be below the high one"),
        (["--range", "audio=0:inf"], 2, "'inf' in 'audio=0:inf' is not a finite number"),
        (["--range", "sr=0:10", "--value", "sr=16000"], 1, "outside its range [0, 10)"),
    ],
)
def test_bad_values_and_ranges_are_refused_before_the_run(model_path, flags, code, fragment):
    result = cli("run", str(model_path("vad_like")), *flags)
    assert result.returncode == code and fragment in result.stderr, result.stderr
    assert "Traceback" not in result.stderr

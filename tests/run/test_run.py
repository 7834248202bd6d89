"""`Model.run` and `RunResult`: named outputs, applied providers, timing and display."""

from __future__ import annotations

import json

import numpy as np
import pytest

import workbench
from tests import models
from tests.cli import cli


def test_run_result_names_outputs_and_providers() -> None:
    result = workbench.load(workbench.demo_model()).run(batch=3)
    assert list(result) == ["logits", "probabilities"]
    assert result["logits"].shape == (3, 10)
    assert result.applied_providers == ["CPUExecutionProvider"]
    assert result.provider == "CPUExecutionProvider" and result.fallback == ""
    assert result.seconds > 0
    assert result.plan is not None and result.plan.batch == 3


def test_selected_outputs_only() -> None:
    result = workbench.load(workbench.demo_model()).run(outputs=["probabilities"])
    assert list(result) == ["probabilities"]
    one = workbench.load(workbench.demo_model()).run(outputs="probabilities")  # a single name
    assert list(one) == ["probabilities"]
    with pytest.raises(workbench.WorkbenchError, match="'prob' is not an output"):
        workbench.load(workbench.demo_model()).run(outputs=["prob"])


def test_io_binding_path_matches_the_plain_path() -> None:
    model = workbench.load(models.build("small_cnn"))
    plain = model.run(seed=4, batch=2)
    bound = model.run(seed=4, batch=2, io_binding=True)
    np.testing.assert_array_equal(plain["logits"], bound["logits"])


def test_summary_rows_and_frame() -> None:
    result = workbench.load(models.build("ml_classifier")).run(dims={"N": 4})
    rows = {r["output"]: r for r in result.summary_rows()}
    assert rows["label"]["shape"] == "(4,)" and rows["label"]["dtype"] == "int64"
    assert rows["probabilities"]["type"] == "sequence of 4"
    frame = result.to_frame()
    assert list(frame.index) == ["label", "probabilities"]
    html = result._repr_html_()
    assert "probabilities" in html and "sequence of 4" in html
    json.dumps(result.as_dict())


def test_run_html_escapes_output_names() -> None:
    proto = models.build("mixed_io")
    proto.graph.output[0].name = "<img src=x onerror=alert(1)>"
    proto.graph.node[0].output[0] = proto.graph.output[0].name
    html = workbench.load(proto).run()._repr_html_()
    assert "<img" not in html and "&lt;img" in html


def test_cli_run_with_dims_json_and_save(tmp_path) -> None:
    out = tmp_path / "out.npz"
    result = cli(
        "run", str(workbench.demo_model()), "--dims", "batch=5", "--json", "--save", str(out)
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["applied_providers"] == ["CPUExecutionProvider"]
    assert np.load(out)["logits"].shape == (5, 10)


def test_cli_run_with_inputs_file(tmp_path) -> None:
    feeds = tmp_path / "feeds.npz"
    np.savez(feeds, image=np.zeros((2, 3, 32, 32), np.float32))
    result = cli("run", str(workbench.demo_model()), "--inputs", str(feeds))
    assert result.returncode == 0, result.stderr
    assert "logits  tensor (2, 10) float32" in result.stdout


def test_cli_run_failure_names_guessed_dims(model_path) -> None:
    result = cli("run", str(model_path("reshape_baked")))
    assert result.returncode == 1
    assert "encoder/Reshape" in result.stderr and "guessed" in result.stderr
    assert "requested shape:{-1,16,8}. The feeds were synthetic" in result.stderr
    hint = result.stderr.split("hint: ", 1)[1]
    assert hint.startswith("Set the guessed dims with dims={'batch': ..., 'seq': ...}")
    assert "(--dims batch=N,seq=N)" in hint and "--value NAME=VALUE" in hint
    assert "Traceback" not in result.stderr


def test_cli_run_strict_provider(model_path) -> None:
    from workbench.ort import providers

    if providers.probe("cuda").usable:
        pytest.skip("CUDA works here")
    strict = cli("run", str(workbench.demo_model()), "--provider", "cuda")
    assert strict.returncode == 1 and "allow_fallback" in strict.stderr
    relaxed = cli("run", str(workbench.demo_model()), "--provider", "cuda", "--allow-fallback")
    assert relaxed.returncode == 0 and "instead of CUDAExecutionProvider" in relaxed.stdout


def test_cli_bad_dims_syntax_is_a_usage_error() -> None:
    result = cli("run", str(workbench.demo_model()), "--dims", "batch")
    assert result.returncode == 2 and "expected NAME=SIZE" in result.stderr


def test_cli_compare_exit_codes(tmp_path) -> None:
    from workbench.ort import providers

    agree = cli(
        "compare",
        str(workbench.demo_model()),
        "--providers",
        "cpu",
        "--expected",
        str(_expected(tmp_path)),
    )
    assert agree.returncode == 0, agree.stdout + agree.stderr
    assert "PASS" in agree.stdout
    if not providers.probe("cuda").usable:
        skipped = cli("compare", str(workbench.demo_model()), "--providers", "cpu,cuda", "--json")
        assert skipped.returncode == 4
        assert json.loads(skipped.stdout)["rows"][0]["status"] == "skipped"


def test_cli_compare_with_a_reference_model_and_every_intermediate() -> None:
    demo = str(workbench.demo_model())
    done = cli("compare", demo, "--providers", "cpu", "--expected", demo, "--intermediates")
    assert done.returncode == 0, done.stderr
    assert "Baseline: reference" in done.stdout
    assert "intermediates: 14 node outputs compared" in done.stdout
    data = json.loads(
        cli("compare", demo, "--providers", "cpu", "--expected", demo, "--intermediates",
            "--json").stdout
    )  # fmt: skip
    assert [e["node"] for e in data["node_errors"]][:2] == ["stem/Conv", "stem/BatchNormalization"]
    assert {e["status"] for e in data["node_errors"]} == {"pass"}


def _expected(folder):
    model = workbench.load(workbench.demo_model())
    result = model.run(seed=0)
    path = folder / "expected.npz"
    np.savez(path, **result.outputs)
    return path


def test_cli_run_placement() -> None:
    result = cli("run", str(workbench.demo_model()), "--placement")
    assert result.returncode == 0, result.stderr
    assert "Node placement" in result.stdout and "CPUExecutionProvider" in result.stdout
    as_json = json.loads(cli("run", str(workbench.demo_model()), "--placement", "--json").stdout)
    assert {p["provider"] for p in as_json["placement"]} == {"CPUExecutionProvider"}


def test_output_statistics_are_computed_once_per_result(monkeypatch) -> None:
    # A notebook renders both text and HTML: large outputs must not be scanned twice.
    import workbench.run.result

    result = workbench.load(workbench.demo_model()).run()
    calls: list[str] = []
    real = workbench.run.result.describe_value
    monkeypatch.setattr(
        workbench.run.result,
        "describe_value",
        lambda name, value: calls.append(name) or real(name, value),
    )
    result.text(), result._repr_html_(), result.as_dict()
    assert sorted(calls) == ["logits", "probabilities"]

"""`%onnx` in a real IPython InteractiveShell: every subcommand, every error path, completion."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import workbench
from workbench.graphview.view import GraphView


@dataclass
class Cell:
    stdout: str
    stderr: str
    outputs: list[Any]
    result: Any
    error: BaseException | None

    @property
    def text(self) -> str:
        return self.stdout + self.stderr


@pytest.fixture
def shell(tmp_path, monkeypatch) -> Iterator[InteractiveShell]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    InteractiveShell.clear_instance()
    ipython = InteractiveShell.instance()
    ipython.run_line_magic("load_ext", "workbench")
    ipython.user_ns["demo"] = str(workbench.demo_model())
    yield ipython
    InteractiveShell.clear_instance()


def run(shell: InteractiveShell, source: str) -> Cell:
    with capture_output() as captured:
        result = shell.run_cell(source)
    return Cell(
        captured.stdout,
        captured.stderr,
        captured.outputs,
        result.result,
        result.error_in_exec or result.error_before_exec,
    )


def loaded(shell: InteractiveShell) -> InteractiveShell:
    run(shell, "%onnx load $demo")
    return shell


def test_usage_lists_every_subcommand(shell) -> None:
    for source in ("%onnx", "%onnx --help"):
        text = run(shell, source).text
        for name in (
            "load",
            "list",
            "info",
            "graph",
            "run",
            "compare",
            "bench",
            "profile",
            "report",
            "doctor",
            "--show-code",
        ):
            assert name in text


def test_each_subcommand_has_its_own_help(shell) -> None:
    text = run(shell, "%onnx bench --help").text
    assert "usage: %onnx bench" in text and "--time-budget" in text and "--report" in text


def test_unknown_subcommand_lists_the_valid_ones(shell) -> None:
    cell = run(shell, "%onnx lod x.onnx")
    assert "UsageError: Unknown %onnx subcommand 'lod'. Valid: load, list" in cell.text
    assert "Traceback" not in cell.text


def test_loading_twice_is_harmless(shell) -> None:
    run(shell, "%load_ext workbench")
    assert len([m for m in shell.configurables if type(m).__name__ == "OnnxMagics"]) == 1


def test_load_list_and_names(shell) -> None:
    cell = run(shell, "%onnx load $demo")
    assert isinstance(cell.result, workbench.Model) and "Loaded 'tinynet'" in cell.stdout
    run(shell, "%onnx load {demo}")  # {var} expands too; same stem gets a new name
    run(shell, "%onnx load $demo --name other")
    listing = run(shell, "%onnx list").stdout
    assert "  tinynet:" in listing and "  tinynet-2:" in listing and "* other:" in listing


def test_info_shows_the_model_and_provider_warnings(shell) -> None:
    cell = run(loaded(shell), "%onnx info")
    assert "text/html" in cell.outputs[0].data and "tinynet" in cell.outputs[0].data["text/html"]
    from workbench.ort import providers

    if not providers.probe("cuda").usable and providers.CUDA in providers.compiled_in():
        assert (
            "cuda" in cell.outputs[1].data["text/plain"]
            and "not usable" in cell.outputs[1].data["text/plain"]
        )


def test_a_model_path_works_where_a_name_does(shell, model_path) -> None:
    path = model_path("control_flow")
    first = run(shell, f"%onnx info {path}")
    assert "control_flow" in first.outputs[0].data["text/html"]
    run(shell, f"%onnx run {path}")  # the same file again: no second copy is loaded
    listing = run(shell, "%onnx list").stdout
    assert len(listing.splitlines()) == 1 and "* control_flow:" in listing, listing


def test_graph_returns_the_view(shell) -> None:
    cell = run(loaded(shell), "%onnx graph --both --height 300")
    assert isinstance(cell.result, GraphView) and len(cell.result.panels) == 2
    assert cell.result.height == 300


def test_graph_html_writes_the_offline_file(shell, tmp_path) -> None:
    cell = run(loaded(shell), "%onnx graph --html demo-graph.html")
    assert cell.error is None and cell.result is None
    written = tmp_path / "demo-graph.html"  # the shell runs in tmp_path
    assert cell.stdout.startswith("Wrote demo-graph.html (") and "Trust HTML" in cell.stdout
    assert b'id="onnx-workbench-model"' in written.read_bytes()
    cell = run(shell, "%onnx graph --both --html both.html")
    assert "offline file holds one" in cell.text and not (tmp_path / "both.html").exists()
    assert "Traceback" not in cell.text


def test_graph_overlays_measure_or_take_a_variable(shell) -> None:
    cell = run(loaded(shell), "%onnx graph --overlay profile --runs 2")
    assert cell.error is None, cell.text
    assert cell.result.overlay.kind == "profile" and cell.result.overlay.matched == 11
    cell = run(shell, "%onnx graph --overlay placement")
    assert cell.result.overlay.kind == "placement"
    shell.user_ns["heat"] = {"stem/Conv": 2.0, "nowhere": 1.0}
    cell = run(shell, "%onnx graph --overlay heat")
    assert cell.result.overlay.unmatched == ["nowhere"] and cell.result.overlay.graph == "original"
    cell = run(shell, "%onnx graph --overlay profile --runs 2 --html p.html")
    assert cell.error is None and "Hottest nodes:" in cell.stdout
    cell = run(shell, "%onnx graph --overlay missing")
    assert "No variable named 'missing'" in cell.text and "Traceback" not in cell.text


def test_variants_shows_the_table_and_keeps_the_result(shell, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    cell = run(loaded(shell), "%onnx variants --variants int8-dynamic --time-budget 0.1 "
                              "--samples 2 -o v")  # fmt: skip
    assert cell.error is None, cell.text
    result = shell.user_ns["v"]
    assert [r.variant for r in result.rows] == ["reference", "int8-dynamic"]
    assert any("image/png" in o.data for o in cell.outputs)  # the speed/accuracy plot
    cell = run(shell, "%onnx variants --variants int4")
    assert "Unknown variant recipe 'int4'" in cell.text and "Traceback" not in cell.text


def test_diff_compares_two_models_by_name_or_path(shell, model_path) -> None:
    cell = run(loaded(shell), f"%onnx diff tinynet {model_path('control_flow')} -o d")
    assert cell.error is None, cell.text
    assert shell.user_ns["d"] is cell.result and cell.result.nodes_removed
    cell = run(shell, "%onnx diff tinynet nowhere")
    assert "No model named 'nowhere'" in cell.text and "Traceback" not in cell.text


def test_localize_draws_on_the_graph_and_cuts_a_part(shell, tmp_path) -> None:
    from tests.run.test_localize import _broken

    shell.user_ns["broken"] = str(_broken(tmp_path / "broken.onnx"))
    cell = run(loaded(shell), "%onnx localize tinynet $broken --samples 2 -o loc")
    assert cell.error is None, cell.text
    assert shell.user_ns["loc"].first.node == "stage1/Conv" and cell.result is shell.user_ns["loc"]
    cell = run(shell, "%onnx graph $broken --overlay loc --html drawn.html")
    assert cell.error is None and "Localization: error per tensor" in cell.text, cell.text
    cell = run(shell, "%onnx graph tinynet --around block/Conv --depth 1 --save part.onnx")
    assert isinstance(cell.result, GraphView) and "Saved the part (3 nodes)" in cell.text
    assert workbench.load(tmp_path / "part.onnx").node_count == 3
    cell = run(shell, "%onnx graph tinynet --block 0")
    assert "no repeated blocks" in cell.text and "Traceback" not in cell.text
    cell = run(shell, "%onnx localize tinynet")
    assert "nothing to compare against" in cell.text and "Traceback" not in cell.text


def test_load_test_shows_its_table_and_curve(shell) -> None:
    cell = run(loaded(shell), "%onnx load-test --scenario server --qps 200 --duration 1 -o lt")
    assert cell.error is None, cell.text
    result = shell.user_ns["lt"]
    assert isinstance(result, workbench.LoadResult) and result.rows[0].verdict == "ok"
    assert any("image/png" in o.data for o in cell.outputs)  # the latency-throughput curve
    cell = run(shell, "%onnx load-test --scenario server --qps -5")
    assert "needs a target rate above 0" in cell.text and "Traceback" not in cell.text


def test_run_with_dims_and_output_variable(shell) -> None:
    cell = run(loaded(shell), "%onnx run --dims batch=3 -o out")
    assert cell.error is None
    assert shell.user_ns["out"]["logits"].shape == (3, 10)
    assert "Ran on CPUExecutionProvider" in cell.stdout


def test_run_with_feeds_variable_and_inputs_file(shell, tmp_path) -> None:
    shell.user_ns["feeds"] = {"image": np.zeros((2, 3, 32, 32), np.float32)}
    assert run(loaded(shell), "%onnx run --feeds feeds").result["logits"].shape == (2, 10)
    np.savez(tmp_path / "f.npz", image=np.zeros((4, 3, 32, 32), np.float32))
    assert run(shell, f"%onnx run --inputs {tmp_path / 'f.npz'}").result["logits"].shape == (4, 10)
    both = run(shell, f"%onnx run --feeds feeds --inputs {tmp_path / 'f.npz'}")
    assert "either --feeds VAR or --inputs FILE" in both.text
    missing = run(shell, "%onnx run --feeds nothing_here")
    assert "No variable named 'nothing_here'" in missing.text


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("%onnx run", "No model loaded: %onnx load PATH first."),
        ("%onnx info ghost", "No model named 'ghost' is loaded"),
        ("%onnx load missing.onnx", "No model file at 'missing.onnx'"),
        ("%onnx load $demo --bogus", "unrecognized arguments: --bogus"),
        ("%onnx run --dims batch", "expected NAME=SIZE"),
        ("%onnx load 'unclosed", "check the quotes"),
        ("%onnx bench --warmup abc", "'abc' is neither 'auto' nor a run count"),
    ],
)
def test_errors_are_one_line_without_traceback(shell, source, fragment) -> None:
    cell = run(shell, source)
    assert fragment in cell.text
    assert "UsageError" in cell.text and "Traceback" not in cell.text


def test_user_errors_from_the_api_show_without_traceback(shell) -> None:
    cell = run(shell, "import workbench\nworkbench.load(b'')")
    assert "EmptyModelError: The given data is empty (0 bytes)." in cell.text
    assert "Hint:" in cell.text and "Traceback" not in cell.text


def test_unusable_provider_is_an_error_in_run_and_a_skipped_row_in_compare(shell) -> None:
    from workbench.ort import providers

    if providers.probe("cuda").usable:
        pytest.skip("CUDA works here")
    strict = run(loaded(shell), "%onnx run --provider cuda")
    assert "allow_fallback" in strict.text and "Traceback" not in strict.text
    cell = run(shell, "%onnx compare --providers cpu,cuda -o cmp")
    assert shell.user_ns["cmp"].skipped == ["CUDAExecutionProvider"]
    assert "SKIPPED" in cell.stdout


def test_bench_shows_table_and_plot_and_reports(shell, tmp_path) -> None:
    cell = run(
        loaded(shell),
        f"%onnx bench --batch 1,2 --time-budget 0.2 --warmup 1 -o b --report {tmp_path / 'b.html'}",
    )
    assert cell.error is None, cell.text
    kinds = [sorted(output.data) for output in cell.outputs]
    assert "text/html" in kinds[0] and "image/png" in kinds[1]  # the table, then the plot
    assert shell.user_ns["b"].results[1].config.batch == 2
    assert (tmp_path / "b.html").stat().st_size > 10_000
    assert "wrote" in cell.stdout
    run(shell, f"%onnx report {tmp_path / 'again.json'}")
    assert workbench.load_report(tmp_path / "again.json").results[0].stats is not None
    wrong = run(shell, f"%onnx report {tmp_path / 'x.html'} --from demo")
    assert "is a str, not a BenchmarkResult" in wrong.text


def test_report_before_any_bench(shell, tmp_path) -> None:
    assert "No benchmark to report yet" in run(shell, f"%onnx report {tmp_path / 'r.html'}").text


def test_profile_and_doctor(shell) -> None:
    cell = run(loaded(shell), "%onnx profile --runs 2 -o prof")
    assert shell.user_ns["prof"].runs == 2
    assert any("image/png" in output.data for output in cell.outputs)
    assert isinstance(run(shell, "%onnx doctor").result, workbench.DoctorReport)


def test_config_sets_the_defaults(shell) -> None:
    run(shell, "%config OnnxMagics.batch_sizes = [2, 3]")
    run(shell, "%config OnnxMagics.time_budget = 0.1")
    run(loaded(shell), "%onnx bench --warmup 1 -o b")
    result = shell.user_ns["b"]
    assert [r.config.batch for r in result.results] == [2, 3]
    assert result.settings["policy"]["time_budget"] == 0.1


@pytest.mark.parametrize(
    "source",
    [
        "%onnx load {demo} --show-code",
        "%onnx info --show-code",
        "%onnx graph --both --show-code",
        "%onnx graph --optimized --html g.html --show-code",
        "%onnx graph --overlay profile --runs 2 --show-code",
        "%onnx graph --overlay profile --runs 2 --batch 2 --value image=0.5 --show-code",
        "%onnx graph --overlay placement --opt-level basic --html p.html --show-code",
        "%onnx graph --overlay compare --providers cpu --show-code",
        "%onnx run --dims batch=2 -o r --show-code",
        "%onnx compare --providers cpu --show-code",
        "%onnx bench --batch 1 --time-budget 0.1 --show-code",
        "%onnx profile --runs 1 --show-code",
        "%onnx diff tinynet tinynet --show-code",
        "%onnx localize tinynet tinynet --samples 1 --show-code",
        "%onnx load-test --scenario server --qps 200 --duration 1 --executor inprocess --show-code",
        "%onnx load-test --scenario peak --p99 5ms --duration 0.3 --batching none,dynamic:4:1ms "
        "--max-probes 4 --executor inprocess --show-code",
        "%onnx localize tinynet {demo} --providers cpu --data feeds.npz -o loc --show-code",
        "%onnx graph --around block/Conv --depth 2 --save p.onnx --show-code",
        "%onnx graph --overlay diff --expected {demo} --show-code",
        "%onnx graph --overlay localize --expected {demo} --html l.html --show-code",
        "%onnx variants --variants fp16 --time-budget 0.1 --samples 2 --show-code",
        "%onnx doctor --show-code",
        # With feeds from a file: compare and profile take providers/provider second.
        "%onnx run --inputs feeds.npz --show-code",
        "%onnx compare --providers cpu --inputs feeds.npz --show-code",
        "%onnx bench --batch 1 --time-budget 0.1 --inputs feeds.npz --report r.html --show-code",
        "%onnx profile --runs 1 --inputs feeds.npz --show-code",
        # Values and ranges: a scalar fills the input, a range bounds synthetic values.
        "%onnx run --value image=0.5 --range image=0:1 --show-code",
        "%onnx compare --providers cpu --value image=0.5 --show-code",
        "%onnx bench --runs 2 --range image=-1:1 --show-code",
        "%onnx profile --runs 1 --value image=0.25 --show-code",
    ],
)
def test_show_code_prints_python_that_runs(shell, source) -> None:
    np.savez("feeds.npz", image=np.zeros((1, 3, 32, 32), np.float32))  # in the shell's folder
    cell = run(loaded(shell), source)
    code = cell.stdout
    assert code.startswith("import workbench\n")
    namespace: dict[str, Any] = {}
    exec(compile(code, "<show-code>", "exec"), namespace)


def test_values_and_partial_feeds_in_magics(shell, model_path) -> None:
    shell.user_ns["audio"] = {"audio": np.ones((2, 160), np.float32)}
    path = model_path("vad_like")
    cell = run(shell, f"%onnx run {path} --feeds audio --value sr=16000 -o r")
    assert cell.error is None, cell.text
    result = shell.user_ns["r"]
    assert [row["given"] for row in result.input_rows()] == [True, True]
    assert result["speech"].shape == (2, 4)
    bad = run(shell, f"%onnx run {path} --value sr=fast")
    assert "Input 'sr' is int64" in bad.text and "Traceback" not in bad.text


def test_bench_defaults_stay_the_apis(shell) -> None:
    plain = run(loaded(shell), "%onnx bench --show-code").stdout
    assert "target_ci" not in plain and "run_timeout" not in plain
    tuned = run(shell, "%onnx bench --target-ci 0 --run-timeout 5 --show-code").stdout
    assert "target_ci=0.0" in tuned and "run_timeout=5.0" in tuned


def test_compare_without_providers_compares_cpu_with_cuda(shell) -> None:
    # The configured default (["cpu"]) is one provider: nothing to compare it with.
    assert "providers=['cpu', 'cuda']" in run(loaded(shell), "%onnx compare --show-code").stdout
    run(shell, "%config OnnxMagics.providers = ['cuda', 'cpu']")
    assert "providers=['cuda', 'cpu']" in run(shell, "%onnx compare --show-code").stdout


def test_completion_through_ipythons_completer(shell, tmp_path) -> None:
    loaded(shell)
    (tmp_path / "model.onnx").write_bytes(b"")

    from IPython.core.completer import provisionalcompleter

    def complete(line: str) -> list[str]:
        with provisionalcompleter():
            return [c.text for c in shell.Completer.completions(line, len(line))]

    assert complete("%onnx r") == ["run", "report"]
    assert complete("%onnx bench --time") == ["--time-budget"]
    assert complete("%onnx run --provider c")[0] == "cpu"  # usable providers come first
    assert "cuda" in complete("%onnx bench --providers cpu,c")  # IPython completes after ","
    assert "model.onnx" in complete("%onnx load mo")
    assert complete("%onnx info ti") == ["tinynet"]


def test_provider_lists_complete_their_last_item(shell) -> None:
    from workbench.magics.completion import candidates
    from workbench.magics.router import OnnxMagics

    magics = next(m for m in shell.configurables if isinstance(m, OnnxMagics))
    assert candidates(magics, "%onnx bench --providers cpu,cu", "cpu,cu") == ["cpu,cuda"]


def test_special_names_are_guarded(shell) -> None:
    assert "-o needs a Python variable name" in run(loaded(shell), "%onnx run -o 1bad").text


def test_ipython_config_files_set_the_defaults(tmp_path, monkeypatch) -> None:
    from traitlets.config import Config

    from workbench.magics.router import OnnxMagics

    config = Config()  # what c.OnnxMagics.* lines in ipython_config.py give
    config.OnnxMagics.time_budget = 0.25
    config.OnnxMagics.batch_sizes = [4]
    InteractiveShell.clear_instance()
    try:
        ipython = InteractiveShell.instance(config=config)
        ipython.run_line_magic("load_ext", "workbench")
        magics = next(m for m in ipython.configurables if isinstance(m, OnnxMagics))
        assert (magics.time_budget, magics.batch_sizes) == (0.25, [4])
    finally:
        InteractiveShell.clear_instance()


@pytest.mark.parametrize(
    ("setting", "fragment"),
    [
        ("OnnxMagics.executor = 'threads'", "inprocess"),
        ("OnnxMagics.providers = ['cuda', 'cdua']", "Unknown execution provider 'cdua'"),
        ("OnnxMagics.batch_sizes = [8, 0]", "should not be less than 1, but a value of 0"),
        ("OnnxMagics.time_budget = -1.0", "less than 0.001, but a value of -1.0"),
    ],
)
def test_config_refuses_bad_defaults_and_keeps_the_old_ones(
    shell, caplog, setting, fragment
) -> None:
    from workbench.magics.router import OnnxMagics

    (magics,) = [c for c in shell.configurables if isinstance(c, OnnxMagics)]
    before = {name: getattr(magics, name) for name in ("executor", "providers", "batch_sizes")}
    run(shell, f"%config {setting}")
    # %config reports the TraitError through logging (the notebook shows it as an error).
    assert fragment in caplog.text
    assert {name: getattr(magics, name) for name in before} == before
    assert magics.time_budget == 3.0


def test_usage_comes_from_the_subcommand_modules(shell) -> None:
    from workbench.magics.subcommands import ALL

    usage = run(shell, "%onnx --help").stdout
    for subcommand in ALL:
        assert f"  {subcommand.name} " in usage and subcommand.summary in usage


def test_report_from_a_variable_that_is_no_benchmark(shell) -> None:
    shell.user_ns["not_a_bench"] = 42
    cell = run(shell, "%onnx report out.html --from not_a_bench")
    assert "not_a_bench is a int, not a BenchmarkResult" in cell.text


def test_explore_completes_loaded_model_names(shell) -> None:
    from workbench.magics.completion import candidates
    from workbench.magics.router import OnnxMagics

    (magics,) = [c for c in shell.configurables if isinstance(c, OnnxMagics)]
    run(loaded(shell), "%onnx load $demo --name other")
    assert candidates(magics, "%onnx explore ot", "ot") == ["other"]
    assert candidates(magics, "%onnx doctor ot", "ot") == []  # doctor takes no model


def test_config_refuses_an_empty_provider_list(shell, caplog) -> None:
    run(shell, "%config OnnxMagics.providers = []")
    assert "providers" in caplog.text and "length" in caplog.text


def test_history_shows_what_the_store_holds(shell, tmp_path) -> None:
    path = tmp_path / "h.sqlite"
    cell = run(loaded(shell), f"%onnx bench --runs 30 --label first --history {path}")
    assert cell.error is None, cell.text
    cell = run(shell, f"%onnx bench --runs 30 --history {path} --compare-to label:first "
                      "--max-slowdown 90%")  # fmt: skip
    assert cell.error is None and any("No configuration got slower" in str(o.data)
                                      for o in cell.outputs)  # fmt: skip
    cell = run(shell, f"%onnx history --store {path} -o past")
    assert cell.error is None, cell.text
    past = shell.user_ns["past"]
    assert isinstance(past, workbench.History) and len(past) == 2
    cell = run(shell, f"%onnx history --store {path} --show-code")
    assert (
        f"past = workbench.history(store={str(path)!r})" in cell.text
        or "workbench.history(" in cell.text
    )

"""Reports: a self-contained, escaped HTML file; JSON with raw samples that reads back; CSV,
Markdown; atomic writes; and diffs between two reports."""

from __future__ import annotations

import html.parser
import json
import os
import re
from pathlib import Path

import pytest

import workbench
from tests import models
from tests.cli import cli
from workbench.bench.config import BenchConfig
from workbench.bench.results import BenchmarkResult, ConfigResult
from workbench.render.files import atomic_write

SCRIPT = "<script>window.__pwned = 1</script>"


@pytest.fixture(scope="module")
def result() -> BenchmarkResult:
    proto = models.build("small_cnn")
    proto.doc_string = SCRIPT
    proto.producer_name = '<img src=x onerror="window.__pwned=2">'
    return workbench.benchmark(
        proto, ["cpu", "cuda"], [1, 2], time_budget=0.2, warmup=2, progress=False, profile=True
    )


class _Tags(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append((tag, dict(attrs)))


def test_html_report_is_self_contained_and_escaped(result, tmp_path) -> None:
    (path,) = result.report(str(tmp_path / "bench.html"))
    page = Path(path).read_text(encoding="utf-8")
    parser = _Tags()
    parser.feed(page)
    scripts = [attrs for tag, attrs in parser.tags if tag == "script"]
    assert scripts == [{"type": "application/json", "id": "onnx-workbench-data"}]
    assert not any(tag == "img" and "onerror" in attrs for tag, attrs in parser.tags)
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in page
    assert not re.search(r"(src|href)=[\"']?(https?:)?//", page)  # no external URL
    assert "Content-Security-Policy" in page
    images = [attrs["src"] for tag, attrs in parser.tags if tag == "img"]
    assert len(images) >= 3 and all(src.startswith("data:image/png;base64,") for src in images)
    for fact in (
        "onnxruntime-gpu"
        if "gpu" in result.environment["onnxruntime"]["package"]
        else "onnxruntime",
        result.environment["cpu"],
        "Python",
        "Per-operator profile",
        "cpu b1 host",
    ):
        assert fact in page
    assert "skipped" in page
    assert "host: numpy feeds, copies included" in page  # each mode is labelled


def test_json_report_has_raw_samples_and_reads_back(result, tmp_path) -> None:
    (path,) = result.report(str(tmp_path / "bench.json"))
    data = json.loads(Path(path).read_text())
    assert data["schema_version"] == 1
    measured = [r for r in data["results"] if r["status"] == "ok"]
    assert measured and all(len(r["samples_ns"]) == r["n"] for r in measured)
    again = workbench.load_report(path)
    assert [r.config for r in again.results] == [r.config for r in result.results]
    for old, new in zip(result.results, again.results, strict=True):
        assert new.samples_ns == old.samples_ns and new.stats == old.stats
    assert again.profile is not None and again.profile.rows == result.profile.rows


def test_html_report_reads_back_too(result, tmp_path) -> None:
    (path,) = result.report(str(tmp_path / "bench.html"))
    assert workbench.load_report(path).results[0].samples_ns == result.results[0].samples_ns


def test_csv_and_markdown(result, tmp_path) -> None:
    written = result.report(str(tmp_path / "bench"), formats=("csv", "md"))
    csv_text = Path(written[0]).read_text()
    assert csv_text.splitlines()[0].startswith("provider,batch")
    assert "cpu b1 host" in csv_text
    markdown = Path(written[1]).read_text()
    assert "| configuration | status | p50 ms |" in markdown


def test_markdown_escapes_what_the_model_and_errors_put_in_it(tmp_path) -> None:
    # The model's name and a failure's reason (which quotes node names) reach the Markdown.
    rows = [
        ConfigResult(BenchConfig("CPUExecutionProvider", batch=1), "ok", samples_ns=[10**6] * 8),
        ConfigResult(
            BenchConfig("CPUExecutionProvider", batch=2),
            "failed",
            reason="node '<img src=x onerror=alert(1)>|x' failed\nsecond line",
        ),
    ]
    result = BenchmarkResult([r.finish() for r in rows], {"name": SCRIPT + "|pipe"}, {}, {}, "now")
    (path,) = result.report(str(tmp_path / "bench.md"))
    markdown = Path(path).read_text()
    assert "<script>" not in markdown and "<img" not in markdown
    assert "### Benchmark: &lt;script&gt;window.__pwned = 1&lt;/script&gt;\\|pipe" in markdown
    failed = next(line for line in markdown.splitlines() if line.startswith("| cpu b2 host"))
    # The reason stays inside its cell: pipes escaped, the newline folded.
    assert "&lt;img src=x onerror=alert(1)&gt;\\|x' failed second line" in failed
    header = next(line for line in markdown.splitlines() if line.startswith("| configuration"))
    cells = re.compile(r"(?<!\\)\|")  # an unescaped pipe starts a cell
    assert len(cells.findall(failed)) == len(cells.findall(header))


def test_warnings_cover_fallbacks_skips_partial_and_noise() -> None:
    import numpy as np

    noisy = (np.random.default_rng(0).exponential(1, 12) * 1e6 + 1e5).astype(int).tolist()
    rows = [
        ConfigResult(
            BenchConfig("CPUExecutionProvider", batch=1),
            "ok",
            samples_ns=noisy,
            fallback="Ran on CPU instead of CUDA: no GPU",
        ).finish(),
        ConfigResult(
            BenchConfig("CPUExecutionProvider", batch=2),
            "partial",
            reason="interrupted after 5 runs",
            samples_ns=[1000] * 5,
        ).finish(),
        ConfigResult(BenchConfig("CUDAExecutionProvider"), "skipped", reason="no GPU"),
    ]
    notes = "\n".join(BenchmarkResult(rows, {}, {}, {}, "now").warnings)
    assert "instead of CUDA" in notes and "skipped: no GPU" in notes
    assert "5 completed runs kept" in notes and "noisy measurement" in notes


def test_atomic_write_keeps_the_previous_report_on_failure(tmp_path, monkeypatch) -> None:
    target = tmp_path / "bench.json"
    target.write_text("previous")

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(workbench.WorkbenchError, match="No space left on device") as caught:
        atomic_write(target, b"new content")
    assert "left untouched" in caught.value.hint
    assert target.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["bench.json"]


def test_report_path_errors(result, tmp_path) -> None:
    with pytest.raises(workbench.WorkbenchError, match="Cannot tell the report format"):
        result.report(str(tmp_path / "bench.txt"))
    with pytest.raises(workbench.WorkbenchError, match="does not exist"):
        result.report(str(tmp_path / "missing" / "bench.html"))


def _result(samples_by_label: dict[int, list[int]]) -> BenchmarkResult:
    rows = [
        ConfigResult(
            BenchConfig("CPUExecutionProvider", batch=batch), "ok", samples_ns=samples
        ).finish()
        for batch, samples in samples_by_label.items()
    ]
    return BenchmarkResult(rows, {"sha256": "a"}, {"cpu": "x"}, {}, "now")


def test_diff_verdicts_follow_confidence_intervals() -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    base = {b: (rng.normal(10, 0.1, 200) * 1e6).astype(int).tolist() for b in (1, 2, 4)}
    later = {
        1: (rng.normal(12, 0.1, 200) * 1e6).astype(int).tolist(),  # slower
        2: (rng.normal(8, 0.1, 200) * 1e6).astype(int).tolist(),  # faster
        4: (rng.normal(10, 0.1, 200) * 1e6).astype(int).tolist(),  # same
    }
    diff = workbench.diff_reports(_result(base), _result(later))
    verdicts = {c.label: c.verdict for c in diff.changes}
    assert verdicts == {
        "cpu b1 host": "slower",
        "cpu b2 host": "faster",
        "cpu b4 host": "no significant change",
    }
    assert [c.label for c in diff.regressions] == ["cpu b1 host"]
    assert diff.changes[0].change == pytest.approx(0.2, abs=0.02)
    assert "slower" in diff._repr_html_() and len(diff.to_frame()) == 3


def test_a_single_run_is_too_few_to_call_a_change() -> None:
    # One run gives ci95 = [x, x]: a zero-width "interval" must not make every change real.
    diff = workbench.diff_reports(_result({1: [10_000_000]}), _result({1: [6_000_000]}))
    assert [c.verdict for c in diff.changes] == ["too few runs to tell"]
    assert diff.regressions == []
    few = _result({1: [10_000_000, 10_000_100, 10_000_050]})
    assert few.results[0].noisy
    assert any("too few runs (3) for a 95% CI of the median" in w for w in few.warnings)


def test_load_report_errors(tmp_path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(workbench.WorkbenchError, match="not valid JSON"):
        workbench.load_report(bad)
    future = tmp_path / "future.json"
    future.write_text(json.dumps({"schema_version": 99, "results": []}))
    with pytest.raises(workbench.WorkbenchError, match="schema version 99"):
        workbench.load_report(future)
    with pytest.raises(workbench.WorkbenchError, match="Cannot read"):
        workbench.load_report(tmp_path / "absent.json")


def test_cli_bench_writes_every_format_and_diffs(tmp_path) -> None:
    model = str(workbench.demo_model())
    first = cli(
        "bench",
        model,
        "--batch",
        "1,2",
        "--providers",
        "cpu,cuda",
        "--time-budget",
        "0.2",
        "--json",
        str(tmp_path / "a.json"),
        "--csv",
        str(tmp_path / "a.csv"),
        "--md",
        str(tmp_path / "a.md"),
        "--report",
        str(tmp_path / "a.html"),
    )
    assert first.returncode == 0, first.stderr
    assert "cpu b1 host" in first.stdout and "wrote" in first.stdout
    for suffix in ("json", "csv", "md", "html"):
        assert (tmp_path / f"a.{suffix}").stat().st_size > 0
    second = cli(
        "bench", model, "--batch", "1,2", "--time-budget", "0.2", "--json", str(tmp_path / "b.json")
    )
    assert second.returncode == 0, second.stderr
    diff = cli("report", "diff", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--json")
    assert diff.returncode in (0, 1)
    assert len(json.loads(diff.stdout)["changes"]) == 2


def test_cli_bench_modes_threads_and_levels(tmp_path) -> None:
    out = cli(
        "bench",
        str(workbench.demo_model()),
        "--threads",
        "1,default",
        "--opt-level",
        "all,disabled",
        "--mode",
        "host,device",
        "--time-budget",
        "0.1",
        "--warmup",
        "1",
    )
    assert out.returncode == 0, out.stderr
    assert "cpu b1 t1 host" in out.stdout and "cpu b1 t1 opt=disabled host" in out.stdout
    assert "host memory" in out.stdout  # device mode on the CPU is skipped, with the reason


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_reports_get_the_mode_open_would_give_and_keep_the_one_they_replace(
    tmp_path, umask
) -> None:
    previous = os.umask(umask)
    try:
        fresh = tmp_path / "fresh.json"
        atomic_write(fresh, b"{}")
        assert fresh.stat().st_mode & 0o777 == 0o666 & ~umask  # as open() would make it
    finally:
        os.umask(previous)
    kept = tmp_path / "kept.json"
    kept.write_text("old")
    kept.chmod(0o600)
    atomic_write(kept, b"{}")
    assert kept.stat().st_mode & 0o777 == 0o600 and kept.read_text() == "{}"


def test_several_formats_keep_a_dotted_name_whole(result, tmp_path) -> None:
    stem = tmp_path / "resnet50.v2-benchmark-20261129"
    written = result.report(stem, formats=("html", "json"))
    assert written == [f"{stem}.html", f"{stem}.json"]
    assert result.report(tmp_path / "bench.json", formats=("html",)) == [
        str(tmp_path / "bench.html")
    ]


def test_the_report_says_where_the_weights_are_and_folds_long_metadata(tmp_path) -> None:
    import onnx

    proto = models.build("vad_like")  # weights in Constant nodes inside If branches
    characters = "\n".join(f"c{i}" for i in range(18_000))
    onnx.helper.set_model_props(proto, {"character": characters})
    result = workbench.benchmark(proto, values={"sr": 16000}, runs=3, warmup=0, progress=False)
    (page,) = result.report(tmp_path / "r.html")
    text = Path(page).read_text()
    assert "<th>parameters</th><td>9 in 3 Constant nodes (40 B)</td>" in text
    assert f"&hellip; ({len(characters):,} characters)</summary>" in text
    assert "<th>path</th><td></td>" in text  # in memory: no path, not "None"
    assert "inputs given: <code>sr</code>; the others synthetic" in text
    old = json.loads(json.dumps(result.as_dict()))
    del old["model"]["parameters"]  # a report written before the breakdown existed
    (again,) = BenchmarkResult.from_dict(old).report(tmp_path / "old.html")
    assert "<th>parameter_count</th><td>9</td>" in Path(again).read_text()

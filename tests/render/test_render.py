"""One rendering home: every result names one template and gets its text, its notebook view
and its report files from it; text shows model strings as they are, HTML escapes them, and
both make control characters visible."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

import workbench
from workbench.render.files import json_text
from workbench.render.mixin import Rendered
from workbench.render.templates import render

TEMPLATES = Path(workbench.__file__).parent / "render" / "templates"
RESULT_MODULES = (
    "workbench.model.model",
    "workbench.run.result",
    "workbench.run.compare",
    "workbench.ort.doctor",
    "workbench.ort.profiling",
    "workbench.bench.results",
    "workbench.report.diff",
)


def _results() -> list[type[Rendered]]:
    for module in RESULT_MODULES:
        importlib.import_module(module)
    found, pending = [], list(Rendered.__subclasses__())
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def test_every_result_has_its_text_and_html_template() -> None:
    results = _results()
    assert {cls.__name__ for cls in results} >= {
        "Model",
        "RunResult",
        "Comparison",
        "DoctorReport",
        "ProviderNotes",
        "ProfileResult",
        "BenchmarkResult",
        "ReportDiff",
    }
    for cls in results:
        for suffix in (".txt.j2", ".html.j2"):
            assert (TEMPLATES / f"{cls.template}{suffix}").is_file(), cls.__name__
        assert cls.title and {"html", "json"} <= set(cls.report_formats)


def test_text_keeps_markup_html_escapes_it_and_both_show_control_characters() -> None:
    text = render("widget_error.html.j2", message="<b>\x1b[31m")
    assert "&lt;b&gt;" in text and "\\x1b[31m" in text
    run = workbench.load(workbench.demo_model()).run()
    run.outputs["<b>out\u202e</b>"] = run.outputs.pop("logits")
    run._rows = None
    assert "<b>out\\u202e</b>" in run.text()
    assert (
        "&lt;b&gt;out\\u202e&lt;/b&gt;" in run._repr_html_() and "<b>out" not in run._repr_html_()
    )


def test_every_result_writes_html_and_json_reports(tmp_path) -> None:
    model = workbench.load(workbench.demo_model())
    bench = workbench.benchmark(model, runs=6, warmup=1, progress=False)
    results = [
        model,
        model.run(),
        workbench.compare(model, ["cpu"]),
        workbench.doctor(),
        workbench.profile(model, runs=1, warmup=0),
        bench,
        workbench.diff_reports(bench, bench),
    ]
    for result in results:
        page, data = result.report(tmp_path / f"{type(result).__name__}", formats=("html", "json"))
        assert Path(page).read_text().startswith("<!DOCTYPE html>")
        assert Path(page).read_text().count("Content-Security-Policy") == 1
        assert json.loads(Path(data).read_text()) == json.loads(json_text(result.as_dict()))
        assert str(result) == result.text() and result.text().strip()


def test_a_format_a_result_does_not_offer_is_refused(tmp_path) -> None:
    with pytest.raises(workbench.WorkbenchError, match="Unknown report format"):
        workbench.doctor().report(tmp_path / "doctor", formats=("csv",))

"""The `%onnx` subcommands: each one a few public-API calls (see --show-code)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.display import display

import workbench
from workbench import arguments, plots
from workbench.display import ProviderNotes
from workbench.feed_files import load_feeds
from workbench.magics import codegen

if TYPE_CHECKING:
    from workbench.magics.magics import OnnxMagics
    from workbench.model import Model


def load(magics: OnnxMagics, args: argparse.Namespace) -> Any:
    """Load a model and make it current: `%onnx load PATH [--name NAME]`."""
    if args.show_code:
        return _show(codegen.program(codegen.model_line(args.path), "model"))
    model = workbench.load(args.path)
    name = magics.remember(model, args.name)
    print(f"Loaded {name!r} (the current model). %onnx list shows every loaded model.")
    return model


def list_models(magics: OnnxMagics, args: argparse.Namespace) -> None:
    """List the loaded models: `%onnx list`."""
    if not magics.models:
        print("No model loaded yet: %onnx load PATH")
        return
    for name, model in magics.models.items():
        mark = "*" if name == magics.current else " "
        print(f"{mark} {name}: {model.path or '(in memory)'}  ({model.node_count} nodes)")


def info(magics: OnnxMagics, args: argparse.Namespace) -> None:
    """Show the model card and provider warnings: `%onnx info [NAME]`."""
    model = magics.model(args.name)
    if args.show_code:
        _show(codegen.program(codegen.model_line(_path(model)), "model", "workbench.doctor()"))
        return
    display(model)
    notes = ProviderNotes()
    if notes.unusable:
        display(notes)


def graph(magics: OnnxMagics, args: argparse.Namespace) -> Any:
    """Show the graph: `%onnx graph [NAME] [--optimized | --both] [--height N]`."""
    model = magics.model(args.name)
    optimized: bool | str = "both" if args.both else bool(args.optimized)
    options = {"height": args.height, **({"optimized": optimized} if optimized else {})}
    if args.show_code:
        return _show(
            codegen.program(
                codegen.model_line(_path(model)),
                codegen.call("workbench.show_graph", "model", **options),
            )
        )
    return workbench.show_graph(model, **options)


def run(magics: OnnxMagics, args: argparse.Namespace) -> Any:
    """Run once: `%onnx run [NAME] [--provider P] [--feeds VAR | --inputs FILE] [-o VAR]`."""
    model = magics.model(args.name)
    options = arguments.run_kwargs(args)
    if args.show_code:
        return _show_call(model, args, "model.run", options, default_name="result")
    result = model.run(_feeds(magics, args, model), **options)
    return magics.store(args.output, result)


def compare(magics: OnnxMagics, args: argparse.Namespace) -> Any:
    """Compare providers: `%onnx compare [NAME] --providers cpu,cuda [-o VAR]`."""
    model = magics.model(args.name)
    if not args.providers:
        args.providers = list(magics.providers) if len(magics.providers) > 1 else ["cpu", "cuda"]
    options = arguments.compare_kwargs(args)
    if args.show_code:
        return _show_call(model, args, "workbench.compare", options, default_name="comparison")
    result = workbench.compare(model, feeds=_feeds(magics, args, model), **options)
    return magics.store(args.output, result)


def bench(magics: OnnxMagics, args: argparse.Namespace) -> None:
    """Benchmark: `%onnx bench [NAME] [bench flags] [-o VAR] [--report FILE]`."""
    model = magics.model(args.name)
    options = arguments.bench_kwargs(args)
    if args.show_code:
        name = args.output or "result"
        then = f"{name}.report({args.report!r})" if args.report else None
        _show_call(model, args, "workbench.benchmark", options, default_name=name, then=then)
        return
    result = workbench.benchmark(model, feeds=_feeds(magics, args, model), **options)
    magics.last_bench = result
    magics.store(args.output, result)
    display(result)
    if result.measured:
        display(
            plots.picture(
                lambda ax: result.plot("p50", ax=ax), len(result.measured), "median latency plot"
            )
        )
    if args.report:
        for path in result.report(args.report):
            print(f"wrote {path}")


def profile(magics: OnnxMagics, args: argparse.Namespace) -> Any:
    """Profile per operator: `%onnx profile [NAME] --provider P [--runs N] [-o VAR]`."""
    model = magics.model(args.name)
    options = {**arguments.run_kwargs(args), "runs": args.runs}
    if args.show_code:
        return _show_call(model, args, "workbench.profile", options, default_name="profile")
    result = workbench.profile(model, feeds=_feeds(magics, args, model), **options)
    magics.store(args.output, result)
    display(result)
    display(plots.picture(lambda ax: result.plot(ax=ax), 15, "time by op type plot"))
    return None


def report(magics: OnnxMagics, args: argparse.Namespace) -> None:
    """Write a benchmark report: `%onnx report PATH [--from VAR]`."""
    result = magics.variable(args.source) if args.source else magics.last_bench
    if result is None:
        raise UsageError("No benchmark to report yet: run %onnx bench first, or pass --from VAR.")
    if not isinstance(result, workbench.BenchmarkResult):
        raise UsageError(f"{args.source} is a {type(result).__name__}, not a BenchmarkResult.")
    if args.show_code:
        _show(codegen.program(f"{args.source or 'result'}.report({args.path!r})"))
        return
    for path in result.report(args.path):
        print(f"wrote {path}")


def explore(magics: OnnxMagics, args: argparse.Namespace) -> Any:
    """Open the widget explorer on a loaded model (or a picker): `%onnx explore [NAME]`."""
    model = magics.model(args.name) if args.name or magics.current else None
    if args.show_code:
        return _show(
            codegen.program(
                codegen.model_line(_path(model)) if model else None,
                "workbench.explore(model)" if model else "workbench.explore()",
            )
        )
    return workbench.explore(model)


def doctor(magics: OnnxMagics, args: argparse.Namespace) -> Any:
    """Diagnose the runtime and providers: `%onnx doctor`."""
    if args.show_code:
        return _show(codegen.program("workbench.doctor()"))
    return workbench.doctor()


def _feeds(magics: OnnxMagics, args: argparse.Namespace, model: Model) -> Any:
    if args.feeds and args.inputs:
        raise UsageError("Pass either --feeds VAR or --inputs FILE, not both.")
    if args.feeds:
        return magics.variable(args.feeds)
    if args.inputs:
        return load_feeds(args.inputs, model)
    return None


def _path(model: Model) -> str | None:
    return str(model.path) if model.path else None


def _show(code: str) -> None:
    print(code)


def _show_call(
    model: Model,
    args: argparse.Namespace,
    function: str,
    options: dict[str, Any],
    *,
    default_name: str,
    then: str | None = None,
) -> None:
    """Print the script for a call on the model: load it (and the feeds), call, keep the result.

    Feeds always go by keyword: `compare` and `profile` take `providers`/`provider` second.
    """
    feeds = codegen.feeds_line(args.feeds, args.inputs)
    subject = [] if function.startswith("model.") else ["model"]
    call = codegen.call(function, *subject, *(["feeds=feeds"] if feeds else []), **options)
    name = args.output or default_name
    _show(codegen.program(codegen.model_line(_path(model)), feeds, f"{name} = {call}", then))

"""The `%onnx` line magic: a router from subcommand names to their parsers and commands."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from traitlets import Float, List, Unicode

from workbench.errors import WorkbenchError
from workbench.magics import commands, parsers

USAGE = """%onnx SUBCOMMAND [options]     (%onnx SUBCOMMAND --help for its options)

  load PATH [--name NAME]   load a model and make it current
  list                      the loaded models
  info [NAME]               metadata, inputs/outputs, ops, compatibility, providers
  graph [NAME]              the graph in Netron (--optimized, --both)
  run [NAME]                run once (--provider, --dims, --feeds VAR, --inputs FILE, -o VAR)
  compare [NAME]            compare providers (--providers cpu,cuda)
  bench [NAME]              benchmark (--providers, --batch, --mode, --report FILE, -o VAR)
  profile [NAME]            per-operator profile (--provider P)
  explore [NAME]            the widget explorer (overview, graph, run, benchmark tabs)
  report PATH               write the last benchmark as a report (--from VAR)
  doctor                    which execution providers really work here

NAME is a loaded model's name (default: the current one) or a model file's path.
Every subcommand takes --show-code to print the equivalent Python instead of running.
Defaults: %config OnnxMagics.providers = ["cuda", "cpu"] (also batch_sizes, time_budget,
executor)."""


@magics_class
class OnnxMagics(Magics):
    """`%onnx`: load, inspect, view, run, compare and benchmark ONNX models."""

    providers = List(
        Unicode(),
        default_value=["cpu"],
        help="Default providers of run (the first), compare and bench.",
    ).tag(config=True)
    batch_sizes = List(default_value=[1], help="Default batch sizes of bench.").tag(config=True)
    time_budget = Float(3.0, help="Default seconds of measuring per bench configuration.").tag(
        config=True
    )
    executor = Unicode("inprocess", help="Default bench executor: inprocess or worker.").tag(
        config=True
    )

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self.models: dict[str, Any] = {}
        self.current: str | None = None
        self.last_bench: Any = None

    @line_magic
    def onnx(self, line: str) -> Any:
        """Route `%onnx SUBCOMMAND ...` to its parser and command (%onnx --help: usage)."""
        try:
            words = shlex.split(line)
        except ValueError as error:
            raise UsageError(f"%onnx: {error} (check the quotes).") from None
        if not words or words[0] in ("-h", "--help", "help"):
            print(USAGE)
            return None
        name, rest = words[0], words[1:]
        route = ROUTES.get(name)
        if route is None:
            raise UsageError(
                f"Unknown %onnx subcommand {name!r}. Valid: {', '.join(ROUTES)}. See %onnx --help."
            )
        make_parser, command = route
        try:
            args = make_parser(self).parse_args(rest)
        except parsers.HelpShown:
            return None
        try:
            return command(self, args)
        except WorkbenchError as error:
            raise UsageError(str(error)) from None

    # ---- state shared by the commands ----

    def remember(self, model: Any, name: str | None) -> str:
        """Keep `model` under `name` (default: its stem, made unique) and make it current."""
        base = name or model.name
        chosen, index = base, 2
        while name is None and chosen in self.models and self.models[chosen] is not model:
            chosen, index = f"{base}-{index}", index + 1
        self.models[chosen] = model
        self.current = chosen
        return chosen

    def model(self, name: str | None) -> Any:
        """A loaded model by name, or the current one; a model file's path loads it."""
        if name is None:
            if self.current is None:
                raise UsageError("No model loaded: %onnx load PATH first.")
            return self.models[self.current]
        path = Path(name).expanduser()
        if name not in self.models and path.is_file():
            for model in self.models.values():  # loaded already: the same Model
                if model.path is not None and model.path.resolve() == path.resolve():
                    return model
            from workbench.model import load  # noqa: PLC0415

            return self.models[self.remember(load(path), None)]
        if name not in self.models:
            loaded = ", ".join(self.models) or "none"
            raise UsageError(
                f"No model named {name!r} is loaded (loaded: {loaded}). "
                "Load it with %onnx load PATH --name NAME."
            )
        return self.models[name]

    def variable(self, name: str) -> Any:
        """A variable of the user's namespace."""
        namespace: dict[str, Any] = self.shell.user_ns if self.shell is not None else {}
        if name not in namespace:
            raise UsageError(f"No variable named {name!r} in the notebook's namespace.")
        return namespace[name]

    def store(self, name: str | None, value: Any) -> Any:
        """Put a result in the user's namespace (when -o VAR was given); return it."""
        if name:
            if not name.isidentifier():
                raise UsageError(f"-o needs a Python variable name, not {name!r}.")
            if self.shell is not None:
                self.shell.user_ns[name] = value
        return value


# name -> (parser factory taking the magics' defaults, command)
Route = tuple[Callable[["OnnxMagics"], parsers.MagicParser], Callable[..., Any]]
ROUTES: dict[str, Route] = {
    "load": (lambda m: parsers.load(), commands.load),
    "list": (lambda m: parsers.list_models(), commands.list_models),
    "info": (lambda m: parsers.info(), commands.info),
    "graph": (lambda m: parsers.graph(), commands.graph),
    "run": (lambda m: parsers.run(list(m.providers)), commands.run),
    "compare": (lambda m: parsers.compare(), commands.compare),
    "bench": (
        lambda m: parsers.bench(list(m.providers), list(m.batch_sizes), m.time_budget, m.executor),
        commands.bench,
    ),
    "profile": (lambda m: parsers.profile(list(m.providers)), commands.profile),
    "explore": (lambda m: parsers.explore(), commands.explore),
    "report": (lambda m: parsers.report(), commands.report),
    "doctor": (lambda m: parsers.doctor(), commands.doctor),
}

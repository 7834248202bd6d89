"""The `%onnx` line magic.

A router from subcommand names to their modules, and the state the subcommands share
(loaded models, the last benchmark, defaults set with %config).
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from traitlets import Enum, Float, Int, List, TraitError, Unicode, validate

from workbench.bench.config import EXECUTORS
from workbench.errors import WorkbenchError
from workbench.magics.parser import HelpShown, Subcommand
from workbench.magics.subcommands import ALL
from workbench.ort import providers as provider_names

if TYPE_CHECKING:
    from workbench.model.model import Model

ROUTES: dict[str, Subcommand] = {s.name: s for s in ALL}
USAGE = "\n".join(
    [
        "%onnx SUBCOMMAND [options]     (%onnx SUBCOMMAND --help for its options)",
        "",
        *(f"  {(s.name + ' ' + s.arguments).strip():<25} {s.summary}" for s in ALL),
        "",
        "NAME is a loaded model's name (default: the current one) or a model file's path.",
        "Every subcommand takes --show-code to print the equivalent Python instead of running.",
        'Defaults: %config OnnxMagics.providers = ["cuda", "cpu"] (also batch_sizes, time_budget,',
        "executor).",
    ]
)


@magics_class
class OnnxMagics(Magics):
    """`%onnx`: load, inspect, view, run, compare and benchmark ONNX models."""

    providers = List(
        Unicode(),
        minlen=1,
        default_value=["cpu"],
        help="Default providers of run (the first), compare and bench: aliases or full names.",
    ).tag(config=True)
    batch_sizes = List(
        Int(min=1), default_value=[1], help="Default batch sizes of bench (1 or more)."
    ).tag(config=True)
    time_budget = Float(
        3.0, min=0.001, help="Default seconds of measuring per bench configuration."
    ).tag(config=True)
    executor = Enum(EXECUTORS, default_value="inprocess", help="Default bench executor.").tag(
        config=True
    )

    @validate("providers")
    def _known_providers(self, proposal: Any) -> list[str]:
        names = list(proposal["value"])
        for name in names:
            try:
                provider_names.resolve(name)
            except WorkbenchError as error:
                raise TraitError(f"{error.message} {error.hint}") from None
        return names

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self.models: dict[str, Model] = {}
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
        try:
            args = route.parser(self).parse_args(rest)
        except HelpShown:
            return None
        try:
            return route.command(self, args)
        except WorkbenchError as error:
            raise UsageError(str(error)) from None

    # ---- state shared by the subcommands ----

    @property
    def default_provider(self) -> str:
        """The provider of `run` and `profile`: the first of `providers`."""
        return self.providers[0] if self.providers else "cpu"

    def remember(self, model: Model, name: str | None) -> str:
        """Keep `model` under `name` (default: its stem, made unique) and make it current."""
        base = name or model.name
        chosen, index = base, 2
        while name is None and chosen in self.models and self.models[chosen] is not model:
            chosen, index = f"{base}-{index}", index + 1
        self.models[chosen] = model
        self.current = chosen
        return chosen

    def model(self, name: str | None) -> Model:
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
            from workbench.model.model import load  # noqa: PLC0415  (the core loads on use: %load_ext stays fast)

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

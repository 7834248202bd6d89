"""What one benchmark configuration is, and when measuring it stops."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from workbench.errors import WorkbenchError
from workbench.ort import providers

Mode = Literal["host", "device", "cuda-graph"]
MODES: tuple[Mode, ...] = ("host", "device", "cuda-graph")
EXECUTORS = ("inprocess", "worker", "pool", "ray")
REPORT_FORMATS = ("html", "json", "csv", "md")  # a benchmark's report files, by suffix
MODE_LABELS = {
    "host": "host: numpy feeds, copies included",
    "device": "device: inputs and outputs resident (IO binding)",
    "cuda-graph": "cuda-graph: captured CUDA graph replayed",
}


@dataclass(frozen=True)
class BenchConfig:
    """One point of a sweep: provider, shapes, threads, optimization level, mode and machine.

    `machine` names a kind of node of a Ray cluster (`benchmark(machines=...)`); None: the
    machine the executor runs on.
    """

    provider: str  # full provider name
    batch: int | None = None
    dims: tuple[tuple[str, int], ...] = ()
    shapes: tuple[tuple[str, tuple[int, ...]], ...] = ()
    intra_op_threads: int | None = None
    opt_level: str = "all"
    mode: Mode = "host"
    # Sizes chosen where the configuration leaves them free (defaults, the model's hints,
    # given feeds): named in the label and the JSON, not part of `key`, so reports written
    # before still match and a run still knows which dims were guessed.
    chosen_batch: int | None = None
    chosen_dims: tuple[tuple[str, int], ...] = ()
    machine: str | None = None

    @property
    def measured_dims(self) -> dict[str, int]:
        """Every free dim's size that ran, the user's and the chosen ones."""
        return dict(sorted((*self.dims, *self.chosen_dims)))

    @property
    def key(self) -> tuple[Any, ...]:
        """Identity used to match configurations across two reports (the machine last)."""
        return (
            self.provider,
            self.batch,
            self.dims,
            self.shapes,
            self.mode,
            self.intra_op_threads,
            self.opt_level,
            self.machine,
        )

    @property
    def label(self) -> str:
        """Short human label, e.g. "cpu b8 host" (threads, opt level, "@machine" when set)."""
        if self.machine is None:
            return self.label_without_machine
        return f"{self.label_without_machine} @{self.machine}"

    @property
    def label_without_machine(self) -> str:
        """The label of the same configuration on any machine, e.g. "cpu b8 host"."""
        parts = [providers.short_name(self.provider)]
        batch = self.batch if self.batch is not None else self.chosen_batch
        if batch is not None:
            parts.append(f"b{batch}")
        parts += [f"{name}={size}" for name, size in self.measured_dims.items()]
        parts += [f"{name}:{'x'.join(map(str, shape))}" for name, shape in self.shapes]
        if self.intra_op_threads is not None:
            parts.append(f"t{self.intra_op_threads}")
        if self.opt_level != "all":
            parts.append(f"opt={self.opt_level}")
        parts.append(self.mode)
        return " ".join(parts)

    def flat(self) -> dict[str, Any]:
        """Flat columns (the history store's): `config` is the whole key as text, to match.

        Unlike `key`, it holds the sizes measured: a batch left free and measured at 1 is
        the same configuration as batch 1 asked for.
        """
        measured = (self.provider, self.batch if self.batch is not None else self.chosen_batch,
                    sorted(self.measured_dims.items()), self.shapes, self.mode,
                    self.intra_op_threads, self.opt_level, self.machine)  # fmt: skip
        return {
            "config": json.dumps(measured),
            "config_label": self.label,
            "provider": self.provider,
            "batch": self.batch if self.batch is not None else self.chosen_batch,
            "dims": ",".join(f"{k}={v}" for k, v in self.measured_dims.items()) or None,
            "shapes": ",".join(f"{k}={'x'.join(map(str, s))}" for k, s in self.shapes) or None,
            "threads": self.intra_op_threads,
            "opt_level": self.opt_level,
            "mode": self.mode,
            "machine": self.machine,
        }

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "provider": self.provider,
            "batch": self.batch,
            "dims": dict(self.dims),
            "shapes": {name: list(shape) for name, shape in self.shapes},
            "intra_op_threads": self.intra_op_threads,
            "opt_level": self.opt_level,
            "mode": self.mode,
            "measured_batch": self.batch if self.batch is not None else self.chosen_batch,
            "measured_dims": self.measured_dims,
            "machine": self.machine,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BenchConfig:
        """Inverse of `as_dict()`."""
        return cls(
            provider=data["provider"],
            batch=data.get("batch"),
            dims=tuple(sorted((k, int(v)) for k, v in (data.get("dims") or {}).items())),
            shapes=tuple(sorted((k, tuple(v)) for k, v in (data.get("shapes") or {}).items())),
            intra_op_threads=data.get("intra_op_threads"),
            opt_level=data.get("opt_level", "all"),
            mode=data.get("mode", "host"),
            chosen_batch=data.get("measured_batch") if data.get("batch") is None else None,
            chosen_dims=tuple(
                sorted(
                    (k, int(v))
                    for k, v in (data.get("measured_dims") or {}).items()
                    if k not in (data.get("dims") or {})
                )
            ),
            machine=data.get("machine"),
        )


@dataclass(frozen=True)
class StopPolicy:
    """Warmup and stopping rules; measurement stops at whichever limit comes first.

    `warmup` is a run count, or "auto": run until the running median settles (two
    consecutive windows within 2%), at most `max_warmup` runs or a tenth of the budget.
    Stops: `runs` (count), `time_budget` (seconds of measuring per configuration), or
    `target_ci` (the 95% CI of the median within +-target_ci of it) once `min_runs` ran.
    """

    warmup: int | Literal["auto"] = "auto"
    runs: int | None = None
    time_budget: float | None = 3.0
    target_ci: float | None = 0.01
    min_runs: int = 10
    max_runs: int = 100_000
    max_warmup: int = 200
    run_timeout: float = 60.0  # the isolated worker is killed after this long without a result

    def __post_init__(self) -> None:
        """Refuse limits that cannot stop a measurement the way the user meant."""
        if self.warmup != "auto" and (type(self.warmup) is not int or self.warmup < 0):
            _refuse(f"warmup={self.warmup!r}", "a run count of 0 or more, or 'auto'")
        if self.runs is not None and (type(self.runs) is not int or self.runs < 1):
            _refuse(f"runs={self.runs!r}", "a run count of 1 or more, or None")
        for name in ("time_budget", "run_timeout"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                _refuse(f"{name}={value!r}", "a number of seconds above 0")
        if self.target_ci is not None and not self.target_ci >= 0:
            _refuse(f"target_ci={self.target_ci!r}", "a fraction such as 0.01 (+-1%), or None")
        if type(self.min_runs) is not int or self.min_runs < 1:
            _refuse(f"min_runs={self.min_runs!r}", "a run count of 1 or more")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def _refuse(given: str, valid: str) -> None:
    raise WorkbenchError(f"benchmark() cannot use {given}.", f"Give {valid}.")


@dataclass
class Timing:
    """What measuring one configuration produced (filled in as it goes)."""

    samples_ns: list[int] = field(default_factory=list)
    warmup_runs: int = 0
    first_run_s: float | None = None
    stop_reason: str = ""  # "runs", "time", "ci", "cancelled", "interrupted", or an error

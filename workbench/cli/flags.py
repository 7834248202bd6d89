"""Flags shared by the `onnx-workbench` CLI and the `%onnx` magics, defined once.

Each `add_*` function puts a command's flags on an argparse parser; each `*_kwargs` function
turns the parsed values into the public API's keyword arguments. The CLI and the magics are
thin shells over these, so a flag means the same thing in both.

One convention for every command: `--json` prints one JSON object to stdout, and
`--report PATH` (repeatable) writes a file whose extension picks the format.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.bench.config import EXECUTORS, MODES, StopPolicy
from workbench.errors import WorkbenchError
from workbench.render.files import json_text, report_target
from workbench.render.mixin import Rendered
from workbench.text import printable

if TYPE_CHECKING:
    from workbench.model.model import Model

_POLICY = StopPolicy()  # the API's defaults, quoted in the help


def key_values(text: str) -> dict[str, int]:
    """`batch=8,seq=128` -> {"batch": 8, "seq": 128}."""
    result: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, value = item.rpartition("=")
        if not sep or not name:
            raise argparse.ArgumentTypeError(
                f"expected NAME=SIZE, got {item!r} (e.g. batch=8,seq=128)"
            )
        result[name] = _int(value, item)
    return result


def shapes(text: str) -> dict[str, list[int]]:
    """`input=1x512,mask=1x512` -> {"input": [1, 512], "mask": [1, 512]}."""
    result: dict[str, list[int]] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, value = item.rpartition("=")
        if not sep or not name:
            raise argparse.ArgumentTypeError(
                f"expected NAME=AxBxC, got {item!r} (e.g. input=1x512)"
            )
        result[name] = [_int(d, item) for d in value.split("x")] if value else []
    return result


def value(text: str) -> tuple[str, str]:
    """`sr=16000` -> ("sr", "16000"): the text, which the model's input type reads.

    JSON for a numeric input (`16000`, `[1, 2]`), the text itself for a string input.
    """
    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(
            f"expected NAME=VALUE, got {text!r} (e.g. sr=16000, or mask=[1,1,0])"
        )
    return name.strip(), raw


def value_range(text: str) -> tuple[str, tuple[float, float]]:
    """`input_ids=0:30522` -> ("input_ids", (0, 30522)): bounds of synthetic values."""
    name, sep, bounds = text.partition("=")
    low, colon, high = bounds.partition(":")
    if not sep or not colon or not name.strip():
        raise argparse.ArgumentTypeError(
            f"expected NAME=LOW:HIGH, got {text!r} (e.g. input_ids=0:30522)"
        )
    pair = (_number(low, text), _number(high, text))
    if not pair[0] < pair[1]:
        raise argparse.ArgumentTypeError(
            f"the low bound must be below the high one, got {text!r} (e.g. input_ids=0:30522)"
        )
    return name.strip(), pair


def names(text: str) -> list[str]:
    """`cpu,cuda` -> ["cpu", "cuda"]."""
    return [part.strip() for part in text.split(",") if part.strip()]


def integers(text: str) -> list[int]:
    """`1,8,32` -> [1, 8, 32]."""
    return [_int(part, text) for part in names(text)]


def threads(text: str) -> list[int | None]:
    """`1,4,default` -> [1, 4, None] (None: onnxruntime's default)."""
    return [None if part == "default" else _int(part, text) for part in names(text)]


def warmup(text: str) -> int | str:
    """`auto` or a run count."""
    if text == "auto" or text.isdigit():
        return "auto" if text == "auto" else int(text)
    raise argparse.ArgumentTypeError(f"{text!r} is neither 'auto' nor a run count (0 or more)")


def machines(text: str) -> dict[str, Any]:
    """`{"h200": {"accelerator_type": "H200"}}`, or a JSON file holding it -> that mapping."""
    source = text
    if not text.lstrip().startswith("{"):
        try:
            source = Path(text).read_text(encoding="utf-8")
        except OSError as error:
            raise argparse.ArgumentTypeError(
                f"{text!r} is neither a JSON object nor a readable file ({error.strerror}); "
                'e.g. --machines \'{"h200": {"accelerator_type": "H200"}}\''
            ) from None
    try:
        found = json.loads(source)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"the machines are not valid JSON: {error}") from None
    if not isinstance(found, dict):
        raise argparse.ArgumentTypeError(
            'the machines must be a JSON object of names, e.g. {"h200": {"accelerator_type": '
            '"H200"}, "cpu": {"resources": {"cpu_box": 1}}}'
        )
    return found


def machine_pairs(text: str) -> dict[str, str]:
    """`t4=h200,cpu=h200` -> {"t4": "h200", "cpu": "h200"}."""
    pairs = {}
    for item in names(text):
        old, sep, new = item.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise argparse.ArgumentTypeError(f"expected A=B, got {item!r} (e.g. t4=h200)")
        pairs[old.strip()] = new.strip()
    return pairs


def _number(text: str, item: str) -> float:
    """A whole number stays an int (integer inputs' bounds); anything else a finite float."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise argparse.ArgumentTypeError(f"{text!r} in {item!r} is not a finite number")
    return number


def _int(value: str, item: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} in {item!r} is not a whole number") from None


def add_shape_options(parser: argparse.ArgumentParser) -> None:
    """--dims, --shapes, --value, --range and --seed, shared by run, compare, bench, profile."""
    parser.add_argument(
        "--dims",
        type=key_values,
        metavar="NAME=SIZE,...",
        help="sizes of symbolic dims, e.g. batch=8,seq=128",
    )
    parser.add_argument(
        "--shapes",
        type=shapes,
        metavar="INPUT=AxB,...",
        help="whole shapes per input, e.g. input_ids=1x512",
    )
    parser.add_argument(
        "--value",
        type=value,
        action="append",
        metavar="INPUT=VALUE",
        help="set an input, e.g. sr=16000 (a number fills the input's shape; a JSON list is "
        "the whole array); repeat for several",
    )
    parser.add_argument(
        "--range",
        type=value_range,
        action="append",
        metavar="INPUT=LOW:HIGH",
        help="bounds of an input's synthetic values, e.g. input_ids=0:30522 (given values "
        "outside are refused); repeat for several",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of synthetic feeds (default 0)")


def add_inputs_option(parser: argparse.ArgumentParser) -> None:
    """--inputs FILE: feeds read from a file or a test_data_set folder."""
    parser.add_argument(
        "--inputs",
        metavar="FILE",
        help="feeds from .npz/.npy/.pb or a test_data_set folder; any subset of the inputs "
        "(the others are synthetic)",
    )


def add_run_options(parser: argparse.ArgumentParser, *, provider: str = "cpu") -> None:
    """Flags of `run`: provider (default `provider`), shapes, batch, fallback."""
    parser.add_argument(
        "--provider", default=provider, help=f"provider alias or name (default {provider})"
    )
    add_shape_options(parser)
    parser.add_argument("--batch", type=int, help="batch size of synthetic feeds")
    parser.add_argument(
        "--allow-fallback",
        action="store_true",
        help="run on the CPU if the provider is unusable (recorded in the result)",
    )


def run_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """Model.run() keyword arguments for parsed `run` flags."""
    return _present(
        {
            "provider": args.provider,
            **_inputs_kwargs(args),
            "batch": args.batch,
            "allow_fallback": args.allow_fallback or None,
        }
    )


def add_compare_options(parser: argparse.ArgumentParser, *, providers: list[str] | None) -> None:
    """Flags of `compare`."""
    parser.add_argument(
        "--providers",
        type=names,
        default=providers,
        help="comma-separated providers; the first is the baseline",
    )
    add_shape_options(parser)
    parser.add_argument(
        "--expected",
        metavar="FILE",
        help="the baseline: expected outputs (.npz or test_data_set folder), or a reference "
        "model (.onnx, run on the first provider)",
    )
    parser.add_argument(
        "--intermediates",
        action="store_true",
        help="compare every node's output too (on the unoptimized graph), not only where "
        "outputs diverge",
    )
    parser.add_argument("--rtol", type=float, help="relative tolerance (default: by dtype)")
    parser.add_argument(
        "--atol", type=float, help="absolute tolerance, scaled by the output's range"
    )


def compare_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """workbench.compare() keyword arguments for parsed `compare` flags."""
    return _present(
        {
            "providers": args.providers,
            "rtol": args.rtol,
            "atol": args.atol,
            "expected": args.expected,
            "intermediates": args.intermediates or None,
            **_inputs_kwargs(args),
        }
    )


def add_bench_options(
    parser: argparse.ArgumentParser,
    *,
    providers: list[str] | None,
    batch_sizes: list[int] | None,
    time_budget: float,
    executor: str,
) -> None:
    """Flags of `bench`, with the defaults given (the magics take theirs from %config)."""
    parser.add_argument("--providers", type=names, default=providers, help="e.g. cpu,cuda")
    parser.add_argument(
        "--batch", type=integers, default=batch_sizes, help="batch sizes, e.g. 1,8,32"
    )
    add_shape_options(parser)
    parser.add_argument("--threads", type=threads, help="intra-op thread counts, e.g. 1,4,default")
    parser.add_argument(
        "--opt-level",
        type=names,
        default=None,
        help="graph optimization levels, e.g. all,disabled (or 'sweep')",
    )
    parser.add_argument(
        "--mode", type=names, default=None, help=f"timing modes: {', '.join(MODES)} (default host)"
    )
    parser.add_argument(
        "--warmup", type=warmup, default="auto", help="warmup runs, or 'auto' (default)"
    )
    parser.add_argument("--runs", type=int, help="stop after this many runs per configuration")
    parser.add_argument(
        "--time-budget",
        type=float,
        default=time_budget,
        help=f"seconds of measuring per configuration (default {time_budget:g})",
    )
    parser.add_argument(
        "--target-ci",
        type=float,
        help="stop once the median's 95%% CI is within +-this "
        f"(default {_POLICY.target_ci:g}; 0 switches this stop off)",
    )
    parser.add_argument(
        "--executor",
        choices=EXECUTORS,
        default=executor,
        help="'worker' isolates onnxruntime in a child process per configuration, 'pool' in "
        "one for the whole sweep, 'ray' runs it on a Ray cluster's nodes",
    )
    parser.add_argument(
        "--machines",
        type=machines,
        metavar="JSON",
        help="with --executor ray: run each configuration on each kind of node, as a JSON "
        'object or file, e.g. \'{"h200": {"accelerator_type": "H200"}, "cpu": {"resources": '
        '{"cpu_box": 1}}}\'',
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="run only the configurations the sweep's checkpoint lacks (refused if the model "
        "or the machine changed)",
    )
    parser.add_argument(
        "--checkpoint",
        metavar="PATH",
        help="where finished rows are kept as JSON lines (default: next to the first --report, "
        "or in the cache)",
    )
    parser.add_argument(
        "--run-timeout",
        type=float,
        help=f"kill a worker silent for this many seconds (default {_POLICY.run_timeout:g})",
    )
    parser.add_argument("--profile", action="store_true", help="add a per-operator profile")
    add_history_options(parser)
    parser.add_argument(
        "--compare-to",
        metavar="BASELINE",
        help="a CI gate: compare with 'last' (this model's previous stored run), 'label:NAME' "
        "or a report FILE.json; exit 1 when a configuration got significantly slower by more "
        "than --max-slowdown, 2 when nothing matched",
    )
    parser.add_argument(
        "--max-slowdown",
        type=fraction,
        default=0.05,
        metavar="PCT",
        help="the gate's threshold, e.g. 5%% (default) or 0.05",
    )
    parser.add_argument(
        "--summary",
        metavar="FILE.md",
        help="with --compare-to: also write the gate's Markdown summary there (a PR comment)",
    )


def add_history_options(parser: argparse.ArgumentParser) -> None:
    """--label, --model-key, --history PATH and --no-history: how a result is recorded."""
    parser.add_argument(
        "--label", help="name this run in the history (a commit, a model version, any text)"
    )
    parser.add_argument(
        "--model-key",
        metavar="KEY",
        help="the model's name in the history and the gate (default: its file name; set it "
        "when every export is called model.onnx)",
    )
    parser.add_argument(
        "--history",
        metavar="PATH",
        help="the history file (default: $ONNX_WORKBENCH_HISTORY, else the user's data folder)",
    )
    parser.add_argument(
        "--no-history", action="store_true", help="do not add this result to the history"
    )


def add_history_query_options(parser: argparse.ArgumentParser) -> None:
    """MODEL, --label, --since, --provider and --store: which stored results to show."""
    parser.add_argument("model", nargs="?", help="a model key or .onnx path (default: all)")
    parser.add_argument("--label", help="only runs recorded with this label")
    parser.add_argument("--since", help="only results since this date or ISO time")
    parser.add_argument("--provider", type=names, help="only these providers, e.g. cpu")
    parser.add_argument("--store", metavar="PATH", help="the history file (default: as above)")


def history_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """history=, label= and model_key= for parsed history options."""
    return _present(
        {
            "history": False if args.no_history else args.history,
            "label": args.label,
            "model_key": args.model_key,
        }
    )


def fraction(text: str) -> float:
    """`5%` -> 0.05; `0.05` -> 0.05 (a bare number above 1 is refused: 5 what?)."""
    percent = text.strip().endswith("%")
    value = _number(text.strip().rstrip("%"), text)
    if percent:
        value /= 100
    if value < 0 or (not percent and value > 1):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a threshold; write a percentage (5%) or a fraction (0.05)"
        )
    return float(value)


def bench_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """workbench.benchmark() keyword arguments for parsed `bench` flags."""
    opt_levels: Any = args.opt_level
    if opt_levels == ["sweep"]:
        opt_levels = "sweep"
    return _present(
        {
            "providers": args.providers,
            "batch_sizes": args.batch,
            **_inputs_kwargs(args),
            "intra_op_threads": args.threads,
            "opt_levels": opt_levels,
            "modes": args.mode,
            "warmup": None if args.warmup == "auto" else args.warmup,
            "runs": args.runs,
            "time_budget": args.time_budget,
            "target_ci": args.target_ci,
            "executor": None if args.executor == "inprocess" else args.executor,
            "machines": args.machines,
            "run_timeout": args.run_timeout,
            "profile": args.profile or None,
            "resume": args.resume or None,
            "checkpoint": args.checkpoint or _beside_report(args),
            **history_kwargs(args),
        }
    )


def _beside_report(args: argparse.Namespace) -> str | None:
    """A checkpoint next to the first report named (`bench.html` -> `bench.checkpoint.jsonl`)."""
    reports = getattr(args, "report", None)
    if not reports:
        return None
    first = reports[0]
    return f"{first.rsplit('.', 1)[0]}.checkpoint.jsonl"


def _inputs_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """What the shape options say about the inputs the user does not give."""
    return {
        "values": dict(args.value) if args.value else None,
        "dims": args.dims,
        "shapes": args.shapes,
        "ranges": dict(args.range) if args.range else None,
        "seed": args.seed or None,
    }


def _present(values: dict[str, Any]) -> dict[str, Any]:
    """Only the arguments that differ from the API's defaults (shorter generated code)."""
    return {k: v for k, v in values.items() if v is not None}


def add_variants_options(parser: argparse.ArgumentParser) -> None:
    """Flags of `variants`: recipes, providers, data, accuracy bar, recipe options."""
    parser.add_argument(
        "--variants",
        type=names,
        default=["ort-optimized", "fp16", "int8-dynamic"],
        help="recipes: ort-optimized, fp16, fp16-mixed, int8-dynamic, int8-static; "
        "NAME=FILE.onnx adds a model of yours (default ort-optimized,fp16,int8-dynamic)",
    )
    parser.add_argument("--providers", type=names, default=["cpu"], help="e.g. cpu,cuda")
    parser.add_argument(
        "--data",
        metavar="PATH",
        help="samples accuracy is measured on: an .npz file, a test_data_set folder, or a "
        "folder of them (default: synthetic samples, said to be no accuracy evidence)",
    )
    parser.add_argument(
        "--calibration", metavar="PATH", help="int8-static's calibration feeds (as --data)"
    )
    parser.add_argument("--samples", type=int, default=16, help="synthetic samples (default 16)")
    parser.add_argument(
        "--min-cosine", type=float, default=0.99, help="accuracy bar (default 0.99)"
    )
    parser.add_argument("--atol", type=float, help="largest absolute error allowed")
    parser.add_argument(
        "--opt-level", default="extended", help="ort-optimized's level (default extended)"
    )
    parser.add_argument("--per-channel", action="store_true", help="int8: per-channel weights")
    parser.add_argument(
        "--quant-format", default="QDQ", help="int8-static: QDQ (default) or QOperator"
    )
    parser.add_argument(
        "--time-budget", type=float, default=1.0, help="seconds measured per row (default 1)"
    )
    parser.add_argument("--folder", metavar="DIR", help="save the variants here, not the cache")
    parser.add_argument(
        "--executor",
        default="inprocess",
        choices=EXECUTORS,
        help="where latency is measured: inprocess (default), worker or pool",
    )
    add_shape_options(parser)
    parser.add_argument("--batch", type=int, help="batch size of synthetic samples")


def variants_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """workbench.evaluate() keyword arguments for parsed `variants` flags."""
    recipes: list[str] | dict[str, str] = list(args.variants)
    if any("=" in v for v in args.variants):
        recipes = dict(v.split("=", 1) if "=" in v else (v, v) for v in args.variants)
    inputs = {k: v for k, v in _inputs_kwargs(args).items() if k != "seed"}
    return _present(
        {
            "variants": recipes,
            "providers": args.providers,
            "data": args.data,
            "calibration": args.calibration,
            "samples": args.samples if args.samples != 16 else None,
            "min_cosine": args.min_cosine if args.min_cosine != 0.99 else None,
            "atol": args.atol,
            "opt_level": args.opt_level if args.opt_level != "extended" else None,
            "per_channel": args.per_channel or None,
            "quant_format": args.quant_format if args.quant_format != "QDQ" else None,
            "time_budget": args.time_budget if args.time_budget != 1.0 else None,
            "folder": args.folder,
            "batch": args.batch,
            "executor": args.executor if args.executor != "inprocess" else None,
            **inputs,
        }
    )


OVERLAYS = ("profile", "placement", "compare", "localize", "diff")


def add_overlay_options(parser: argparse.ArgumentParser, *, help_extra: str = "") -> None:
    """--overlay KIND and what each kind measures with (--provider, --opt-level, --runs...)."""
    parser.add_argument(
        "--overlay",
        metavar="KIND",
        help="draw measurements on the graph: profile (time per node), placement (provider "
        "per node), compare (error per node), localize (error per tensor against --expected "
        f"over --data samples) or diff (what changed since --expected){help_extra}",
    )
    parser.add_argument(
        "--provider", default="cpu", help="provider of --optimized and the overlay (default cpu)"
    )
    parser.add_argument(
        "--opt-level", help="optimization level: disabled, basic, extended, layout, all (default)"
    )
    parser.add_argument("--runs", type=int, default=10, help="profiled runs (default 10)")
    parser.add_argument(
        "--providers",
        type=names,
        help="for --overlay compare: providers, the first the baseline (default cpu,cuda); "
        "for localize: the reference's and the model's (default cpu)",
    )
    parser.add_argument(
        "--expected",
        metavar="FILE",
        help="for --overlay compare, localize and diff: the reference model (.onnx)",
    )
    parser.add_argument(
        "--data",
        metavar="PATH",
        help="for --overlay localize: the samples (.npz, a test_data_set folder or a folder "
        "of them; default 16 synthetic ones)",
    )
    parser.add_argument("--top", type=int, default=10, help="nodes listed beside the graph")
    add_shape_options(parser)  # the inputs a profile or a comparison runs on
    parser.add_argument("--batch", type=int, help="batch size of synthetic feeds")


def overlay_call(args: argparse.Namespace) -> tuple[str, dict[str, Any]] | None:
    """The API call an --overlay KIND stands for: (function, keyword arguments), or None.

    `placement` needs no call: show_graph(overlay="placement") measures it.
    """
    inputs = {**_inputs_kwargs(args), "batch": args.batch}
    if args.overlay == "profile":
        options = {"provider": args.provider, "runs": args.runs, "opt_level": args.opt_level}
        return "workbench.profile", _present({**options, **inputs})
    if args.overlay == "compare":
        options = {"providers": args.providers or ["cpu", "cuda"], "expected": args.expected,
                   "intermediates": True}  # fmt: skip
        return "workbench.compare", _present({**options, **inputs})
    if args.overlay == "localize":
        options = {"reference": _reference(args), "providers": args.providers, "data": args.data}
        return "workbench.localize", _present({**options, **inputs})
    if args.overlay == "diff":
        return "workbench.diff_models", {"a": _reference(args)}
    return None


def _reference(args: argparse.Namespace) -> str:
    if not args.expected:
        raise WorkbenchError(
            f"--overlay {args.overlay} needs the reference model.",
            f"Add --expected REFERENCE.onnx (the model --overlay {args.overlay} compares with).",
        )
    return str(args.expected)


def overlay_value(model: Model, args: argparse.Namespace) -> Any:
    """What --overlay KIND stands for: measured here (a profile, a comparison), or a name."""
    if args.overlay is None:
        return None
    if args.overlay not in OVERLAYS:
        raise WorkbenchError(
            f"Unknown overlay {args.overlay!r}.", f"Use one of: {', '.join(OVERLAYS)}."
        )
    called = overlay_call(args)
    if called is None:
        return args.overlay
    from workbench.model.diff import diff_models  # noqa: PLC0415  (heavy: loads when measuring)
    from workbench.run.compare import compare  # noqa: PLC0415  (as above)
    from workbench.run.localize import localize  # noqa: PLC0415  (as above)
    from workbench.run.profile import profile  # noqa: PLC0415  (as above)

    function, options = called
    measures: dict[str, Callable[..., Any]] = {
        "workbench.profile": profile,
        "workbench.compare": compare,
        "workbench.localize": lambda m, reference, **o: localize(reference, m, **o),
        "workbench.diff_models": lambda m, a: diff_models(a, m),
    }
    return measures[function](model, **options)


def add_localize_options(parser: argparse.ArgumentParser) -> None:
    """Flags of `localize`: models, providers, samples, tolerances, repro, requantize."""
    parser.add_argument("reference", help="the reference model (a path, or a loaded name)")
    parser.add_argument(
        "candidate", nargs="?", help="the model to check (default: the reference, on two providers)"
    )
    parser.add_argument(
        "--providers",
        type=names,
        default=["cpu"],
        help="one provider for both, or the reference's and the candidate's (default cpu)",
    )
    parser.add_argument(
        "--data",
        metavar="PATH",
        help="the samples: .npz, a test_data_set folder or a folder of them (default: "
        "--samples synthetic ones)",
    )
    parser.add_argument("--samples", type=int, default=16, help="synthetic samples (default 16)")
    parser.add_argument("--rtol", type=float, help="relative tolerance (default: by dtype)")
    parser.add_argument("--atol", type=float, help="absolute tolerance, scaled by each range")
    parser.add_argument("--top", type=int, default=10, help="worst tensors listed (default 10)")
    parser.add_argument(
        "--repro", metavar="DIR", help="write the first bad tensor's node as a model to share"
    )
    parser.add_argument(
        "--requantize",
        type=int,
        nargs="?",
        const=3,
        metavar="N",
        help="quantize the int8 candidate again without its N worst nodes (default 3) and "
        "show both rows",
    )


def localize_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """workbench.localize() keyword arguments (beside the two models) for parsed flags."""
    return _present({"data": args.data, "providers": args.providers, "samples": args.samples,
                     "rtol": args.rtol, "atol": args.atol,
                     "top": args.top if args.top != 10 else None})  # fmt: skip


def add_load_test_options(parser: argparse.ArgumentParser) -> None:
    """Flags of `load-test`: scenario, rate, duration, bound, concurrency, batching."""
    parser.add_argument(
        "--providers", type=names, default=["cpu"], help="comma-separated providers (default cpu)"
    )
    parser.add_argument(
        "--scenario",
        default="server",
        help="single-stream, concurrency, server (default), offline or peak",
    )
    parser.add_argument("--qps", type=float, help="server: the target rate (requests per second)")
    parser.add_argument(
        "--duration", default="10", help="seconds per run (peak: per probe), e.g. 10 or 500ms"
    )
    parser.add_argument(
        "--p99", metavar="BOUND", help="the latency bound at p99, e.g. 20ms (peak needs a bound)"
    )
    parser.add_argument("--bound", metavar="BOUND", help="a bound at --percentile, e.g. 50ms")
    parser.add_argument(
        "--percentile", type=float, default=99.0, help="the bound's percentile (default 99)"
    )
    parser.add_argument(
        "--concurrency", type=integers, help="concurrency: clients, e.g. 1,2,4,8 (default 1,2,4)"
    )
    parser.add_argument(
        "--sessions", default="shared", help="concurrency: shared, per-client or both"
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="open loop: threads serving the queue (default 1)"
    )
    parser.add_argument(
        "--batching",
        type=names,
        help="none, dynamic:MAX_BATCH:MAX_WAIT (e.g. dynamic:8:2ms), or several to compare",
    )
    parser.add_argument("--queue-limit", type=int, help="requests queued at most (then dropped)")
    parser.add_argument("--max-probes", type=int, default=10, help="peak: server runs at most")
    parser.add_argument(
        "--executor",
        default="pool",
        choices=EXECUTORS,
        help="pool (default: one child process for every run), worker (one each), inprocess or ray",
    )
    add_shape_options(parser)


def load_test_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """workbench.load_test() keyword arguments for parsed `load-test` flags."""
    if args.p99 and args.bound:
        raise WorkbenchError("Give --p99 or --bound, not both.", "E.g. --p99 20ms.")
    inputs = _inputs_kwargs(args)
    percentile = 99.0 if args.p99 else args.percentile
    return _present(
        {
            "providers": args.providers,
            "scenario": args.scenario,
            "qps": args.qps,
            "duration": args.duration if args.duration != "10" else None,
            "bound": args.p99 or args.bound,
            "percentile": percentile if percentile != 99 else None,
            "concurrency": args.concurrency,
            "sessions": args.sessions if args.sessions != "shared" else None,
            "workers": args.workers if args.workers != 1 else None,
            "batching": args.batching,
            "queue_limit": args.queue_limit,
            "max_probes": args.max_probes if args.max_probes != 10 else None,
            "executor": args.executor if args.executor != "pool" else None,
            **inputs,
        }
    )


def add_part_options(parser: argparse.ArgumentParser) -> None:
    """--around NODE --depth N, --block I (a part of the graph), --save PART.onnx."""
    parser.add_argument("--around", metavar="NODE", help="only the part around this node")
    parser.add_argument(
        "--depth", type=int, default=1, help="with --around: hops along tensors (default 1)"
    )
    parser.add_argument(
        "--block", type=int, metavar="I", help="only repeated block I (of model.blocks())"
    )
    parser.add_argument(
        "--save", metavar="PART.onnx", help="also save that part as a model of its own"
    )


def part_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """show_graph()/save_graph() keyword arguments for --around, --depth and --block."""
    if args.around is None and args.block is None:
        if args.save:
            raise WorkbenchError(
                "--save writes a part: say which.", "Add --around NODE [--depth N] or --block I."
            )
        return {}
    if args.block is not None:
        return {"block": args.block}
    return {"around": args.around, "depth": args.depth}


def add_output_options(parser: argparse.ArgumentParser, formats: Sequence[str]) -> None:
    """--json (print one JSON object) and --report PATH (write a file; repeatable)."""
    parser.add_argument("--json", action="store_true", help="print one JSON object to stdout")
    add_report_option(parser, formats)


def add_report_option(parser: argparse.ArgumentParser, formats: Sequence[str]) -> None:
    """--report PATH, repeatable; the extension picks the format."""
    parser.add_argument(
        "--report",
        action="append",
        metavar="PATH",
        help=f"write a report; the extension picks the format ({', '.join(formats)}); "
        "repeat for several",
    )


def report_paths(paths: Sequence[str] | None, formats: Sequence[str]) -> list[str]:
    """The --report paths, each checked (format, folder) before any work is done."""
    for path in paths or ():
        report_target(path, formats)
    return list(paths or ())


def show(
    result: Rendered, args: argparse.Namespace, *, extra: Mapping[str, Any] | None = None
) -> None:
    """Print `result`: one JSON object with --json (`extra` keys added), else its text."""
    if args.json:
        data = {**result.as_dict(), **(extra or {})}
        print(json_text(data))
    else:
        print(printable(result.text()))


def write_reports(result: Rendered, paths: Sequence[str], args: argparse.Namespace) -> None:
    """Write each --report file, saying so (on stderr with --json: stdout holds the JSON)."""
    for path in paths:
        for written in result.report(path):
            print(f"wrote {written}", file=sys.stderr if args.json else sys.stdout)

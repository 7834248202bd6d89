"""Benchmark and profile plots (matplotlib).

Each takes `ax=None`, returns the Axes, and never calls `plt.show()`. Layouts switch to
horizontal bars past a handful of configurations, so they stay readable with 2
configurations or with 20.
"""

from __future__ import annotations

import io
from collections import defaultdict
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.errors import WorkbenchError
from workbench.text import printable

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from workbench.bench.results import BenchmarkResult, ConfigResult
    from workbench.loadtest.result import LoadResult, LoadRow
    from workbench.ort.profiling import ProfileResult
    from workbench.tracking.query import History
    from workbench.variant.evaluate import Evaluation

HORIZONTAL_ABOVE = 6  # more configurations than this: one row each, labels on the left
LABEL_WIDTH = 48  # longer labels are cut: a 500-character node name would squash the axes
_MAX_POINTS = 300  # points drawn per configuration in distributions (a seeded subsample)


def _axes(ax: Axes | None, rows: int, horizontal: bool) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt  # noqa: PLC0415  (heavy: loads on first use)

    size = (8, max(3.0, 0.38 * rows + 1.2)) if horizontal else (max(5.0, 1.1 * rows + 2), 4)
    _, created = plt.subplots(figsize=size, layout="constrained")
    return created


def _measured(result: BenchmarkResult) -> list[ConfigResult]:
    measured = result.measured
    if not measured:
        raise WorkbenchError(
            "Nothing to plot: no configuration was measured.",
            "Check the skipped and failed rows: result.to_frame().",
        )
    return measured


def latency_distribution(result: BenchmarkResult, ax: Axes | None = None) -> Axes:
    """Box plot of per-run latencies per configuration, with the runs drawn as points.

    The latency axis ends a little past the slowest p99, so a few extreme runs cannot flatten
    every box; how many runs lie beyond it is said in the title.
    """
    measured = _measured(result)
    horizontal = len(measured) > HORIZONTAL_ABOVE
    ax = _axes(ax, len(measured), horizontal)
    data = [np.asarray(r.samples_ns, dtype=np.float64) / 1e6 for r in measured]
    positions = np.arange(1, len(data) + 1)
    ax.boxplot(
        data,
        positions=positions,
        orientation="horizontal" if horizontal else "vertical",
        widths=0.6,
        showfliers=False,
        medianprops={"color": "black"},
    )
    rng = np.random.default_rng(0)
    for position, values in zip(positions, data, strict=True):
        shown = (
            values if len(values) <= _MAX_POINTS else rng.choice(values, _MAX_POINTS, replace=False)
        )
        jitter = position + rng.uniform(-0.18, 0.18, len(shown))
        x, y = (shown, jitter) if horizontal else (jitter, shown)
        ax.scatter(x, y, s=4, alpha=0.35, color="tab:blue", linewidths=0)
    limit = 1.3 * max(float(np.percentile(values, 99)) for values in data)
    beyond = sum(int(np.count_nonzero(values > limit)) for values in data)
    (ax.set_xlim if horizontal else ax.set_ylim)(0, limit)
    _label_configs(ax, positions, [r.config.label for r in measured], horizontal)
    (ax.set_xlabel if horizontal else ax.set_ylabel)("latency per run (ms)")
    ax.set_title(
        "Latency distribution" + (f" ({beyond} slow runs beyond the axis)" if beyond else "")
    )
    return ax


def p50_bars(result: BenchmarkResult, ax: Axes | None = None, baseline: str | None = None) -> Axes:
    """Median latency per configuration with its 95% CI and the speedup over a baseline.

    Speedups compare configurations of the same batch size. `baseline` is a configuration
    label (default: the first measured one); its settings, batch aside, define the baseline
    of every batch.
    """
    measured = _measured(result)
    labels = [r.config.label for r in measured]
    base = (
        next((r for r in measured if r.config.label == baseline), None) if baseline else measured[0]
    )
    if base is None:
        raise WorkbenchError(
            f"No measured configuration is labelled {baseline!r}.", f"Labels: {', '.join(labels)}."
        )
    horizontal = len(measured) > HORIZONTAL_ABOVE
    ax = _axes(ax, len(measured), horizontal)
    p50 = np.array([r.stats.p50_ms for r in measured if r.stats])
    low = np.array([r.stats.ci95_ms[0] for r in measured if r.stats])
    high = np.array([r.stats.ci95_ms[1] for r in measured if r.stats])
    errors = np.vstack([np.clip(p50 - low, 0, None), np.clip(high - p50, 0, None)])
    positions = np.arange(len(measured))
    colors = [_provider_color(r.config.provider) for r in measured]
    if horizontal:
        ax.barh(positions, p50, xerr=errors, color=colors, capsize=3)
        ax.invert_yaxis()
        ax.set_xlabel("p50 latency (ms), 95% CI")
    else:
        ax.bar(positions, p50, yerr=errors, color=colors, capsize=3)
        ax.set_ylabel("p50 latency (ms), 95% CI")
    baselines = _baselines_by_batch(measured, base)
    for position, r, value, top in zip(positions, measured, p50, high, strict=True):
        reference = baselines.get(r.config.batch)
        if reference is None or value <= 0:
            continue
        # Beside the bar's end when bars are horizontal, above it when vertical.
        xy, offset = ((top, position), (4, 0)) if horizontal else ((position, top), (0, 3))
        ax.annotate(
            f"{reference / value:.2f}x",
            xy,
            xytext=offset,
            textcoords="offset points",
            ha="left" if horizontal else "center",
            va="center" if horizontal else "baseline",
            fontsize=8,
        )
    _label_configs(ax, positions, labels, horizontal)
    batch_note = " at the same batch" if len(baselines) > 1 else ""
    base_name = (
        base.config.label.replace(f" b{base.config.batch}", "")
        if len(baselines) > 1
        else base.config.label
    )
    ax.set_title(_label(f"Median latency (speedup vs {base_name}{batch_note})", 90))
    ax.margins(x=0.15) if horizontal else ax.margins(y=0.15)
    return ax


def p50_by_machine(result: BenchmarkResult, ax: Axes | None = None) -> Axes:
    """Median latency of each configuration on each machine, side by side, with 95% CIs.

    Rows group by `ConfigResult.machine` (the `machines=` kind, else the host), so the same
    configuration measured on a T4 node and an H200 node sits in one group of bars.
    """
    measured = _measured(result)
    machines = list(dict.fromkeys(r.machine for r in measured))
    if len(machines) < 2:
        raise WorkbenchError(
            "Only one machine measured this sweep: nothing to compare across machines.",
            "Run it with executor='ray' and machines={...}, or plot result.plot('p50').",
        )
    configs = list(dict.fromkeys(r.config.label_without_machine for r in measured))
    by_key = {(r.config.label_without_machine, r.machine): r for r in measured}
    ax = _axes(ax, len(configs) * len(machines), horizontal=True)
    height = 0.8 / len(machines)
    for slot, machine in enumerate(machines):
        rows = [(i, by_key[c, machine]) for i, c in enumerate(configs) if (c, machine) in by_key]
        p50 = np.array([r.stats.p50_ms for _, r in rows if r.stats])
        low = np.array([r.stats.ci95_ms[0] for _, r in rows if r.stats])
        high = np.array([r.stats.ci95_ms[1] for _, r in rows if r.stats])
        errors = np.vstack([np.clip(p50 - low, 0, None), np.clip(high - p50, 0, None)])
        positions = np.array([i for i, _ in rows]) - 0.4 + height * (slot + 0.5)
        ax.barh(positions, p50, height=height, xerr=errors, capsize=2, label=printable(machine))
    ax.invert_yaxis()
    _label_configs(ax, np.arange(len(configs)), configs, horizontal=True)
    ax.set_xlabel("p50 latency (ms), 95% CI")
    ax.set_title("Median latency by machine")
    ax.legend(fontsize=8, title="machine")
    return ax


def _baselines_by_batch(
    measured: list[ConfigResult], base: ConfigResult
) -> dict[int | None, float]:
    """p50 of the baseline's settings at each batch size measured with them."""
    same_settings = base.config.key[:1] + base.config.key[2:]
    return {
        r.config.batch: r.stats.p50_ms
        for r in measured
        if r.stats and r.config.key[:1] + r.config.key[2:] == same_settings
    }


def scaling(result: BenchmarkResult, ax: Axes | None = None) -> Axes:
    """Latency (solid) and throughput (dashed, right axis) against batch size.

    One line per provider/mode/threads/optimization level.
    """
    groups: dict[str, list[ConfigResult]] = defaultdict(list)
    for r in _measured(result):
        if r.config.batch is not None:
            label = r.config.label.replace(f" b{r.config.batch}", "")
            groups[label].append(r)
    if not groups:
        raise WorkbenchError(
            "Scaling needs batch sizes: none of the configurations set one.",
            "Run benchmark(..., batch_sizes=[1, 8, 32]).",
        )
    ax = _axes(ax, 1, False)
    throughput_ax = ax.twinx()
    for index, (label, rows) in enumerate(sorted(groups.items())):
        rows.sort(key=lambda r: r.config.batch or 0)
        batches = [r.config.batch or 0 for r in rows]
        color = f"C{index % 10}"
        ax.plot(
            batches,
            [r.stats.p50_ms for r in rows if r.stats],
            "o-",
            color=color,
            label=_label(label),
        )
        throughput_ax.plot(
            batches,
            [r.stats.throughput_per_s for r in rows if r.stats],
            "s--",
            color=color,
            alpha=0.6,
        )
    batches_seen = sorted(
        {r.config.batch for rows in groups.values() for r in rows if r.config.batch}
    )
    ax.set_xscale("log", base=2)
    ax.set_xticks(batches_seen, [str(b) for b in batches_seen])
    ax.minorticks_off()
    ax.set_xlabel("batch size")
    ax.set_ylabel("p50 latency (ms), solid")
    throughput_ax.set_ylabel("throughput (items/s), dashed")
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title("Scaling with batch size")
    return ax


def op_breakdown(
    profile: ProfileResult, top: int = 15, ax: Axes | None = None, by: str = "op_type"
) -> Axes:
    """Horizontal bars of time per op type (or per node), the `top` largest, with shares."""
    if by not in ("op_type", "node"):
        raise WorkbenchError(f"Unknown grouping {by!r}.", "Use by='op_type' or by='node'.")
    table = profile.by_op_type() if by == "op_type" else profile.to_frame()
    table = table.head(top)
    ax = _axes(ax, len(table), True)
    positions = np.arange(len(table))
    ax.barh(positions, table["total_ms"], color=[_provider_color(p) for p in table["provider"]])
    for position, total, share in zip(positions, table["total_ms"], table["share"], strict=True):
        ax.annotate(
            f"{100 * share:.1f}%",
            (total, position),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    ax.set_yticks(positions, [_label(v) for v in table[by]], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(f"total time over {profile.runs} runs (ms)")
    ax.set_title(f"Time by {'op type' if by == 'op_type' else 'node'} on {profile.provider}")
    ax.margins(x=0.15)
    return ax


class Picture:
    """A drawn Figure that displays as PNG in any frontend and as a line of text elsewhere.

    Notebook frontends show matplotlib Figures only when an inline backend is active; a
    PNG repr works in JupyterLab, Notebook 7, VS Code and nbconvert alike.
    """

    def __init__(self, figure: Any, description: str) -> None:
        self.figure = figure
        self.description = description

    def png(self) -> bytes:
        """The picture as PNG bytes (100 dpi)."""
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()

    def _repr_png_(self) -> bytes:
        return self.png()

    def __repr__(self) -> str:
        return f"<{self.description}: shown as an image in notebooks>"


def picture(draw: Any, rows: int, description: str) -> Picture:
    """Draw with `draw(ax)` on a fresh Figure sized for `rows` bars (no pyplot state)."""
    from matplotlib.figure import Figure  # noqa: PLC0415  (heavy: loads on first use)

    height = max(3.0, 0.38 * rows + 1.2) if rows > HORIZONTAL_ABOVE else 4.0
    figure = Figure(figsize=(8, height), layout="constrained")
    draw(figure.add_subplot())
    return Picture(figure, description)


def _label(text: str, width: int = LABEL_WIDTH) -> str:
    """Text from a model or config as a plot label: shortened, controls escaped, `$` literal.

    matplotlib parses `$...$` as math and fails at draw time on a bad formula.
    """
    text = printable(str(text))
    if len(text) > width:
        text = text[: width - 1] + "\N{HORIZONTAL ELLIPSIS}"
    return text.replace("$", r"\$")


def _label_configs(ax: Axes, positions: Any, labels: list[str], horizontal: bool) -> None:
    size = 8 if len(labels) > HORIZONTAL_ABOVE else 9
    labels = [_label(text) for text in labels]
    if horizontal:
        ax.set_yticks(positions, labels, fontsize=size)
    else:
        ax.set_xticks(
            positions,
            labels,
            rotation=30 if len(labels) > 3 else 0,
            ha="right" if len(labels) > 3 else "center",
            fontsize=size,
        )


def _provider_color(provider: str) -> str:
    return {
        "CPUExecutionProvider": "tab:blue",
        "CUDAExecutionProvider": "tab:green",
        "TensorrtExecutionProvider": "tab:olive",
    }.get(provider, "tab:purple")


def pareto(result: Evaluation, ax: Axes | None = None) -> Axes:
    """p50 latency against the largest absolute error: one marker per variant and provider.

    Lower-left is better; the frontier (no variant both faster and more accurate) is drawn.
    Errors are on a log scale; the reference (error 0) sits at the axis' floor.
    """
    rows = [r for r in result.rows if r.status == "ok" and r.p50_ms and r.max_abs_error is not None]
    if not rows:
        raise WorkbenchError(
            "Nothing to plot: no variant was both measured and compared.",
            "Check the skipped and failed rows: result.to_frame().",
        )
    ax = _axes(ax, len(rows), horizontal=False)
    positive = [r.max_abs_error for r in rows if r.max_abs_error]
    floor = min(positive) / 10 if positive else 1e-9
    points = [(r.p50_ms or 0.0, max(r.max_abs_error or 0.0, floor), r) for r in rows]
    for latency, error, row in points:
        ax.scatter(latency, error, color=_provider_color(row.provider), zorder=3,
                   marker="o" if row.accurate is not False else "x")  # fmt: skip
        ax.annotate(_label(f"{row.variant} ({row.provider.removesuffix('ExecutionProvider')})",
                           28), (latency, error), textcoords="offset points", xytext=(5, 4),
                    fontsize=8)  # fmt: skip
    frontier, best = [], float("inf")
    for latency, error, _ in sorted(points, key=lambda p: (p[0], p[1])):
        if error < best:
            frontier.append((latency, error))
            best = error
    if len(frontier) > 1:
        xs, ys = zip(*frontier, strict=True)
        ax.step(xs, ys, where="post", color="0.5", linestyle="--", linewidth=1, zorder=2)
    ax.set_yscale("log")
    ax.set_xlabel("p50 latency (ms)")
    ax.set_ylabel("max abs error vs reference (log)")
    ax.set_title("Variants: speed against accuracy (x: below the accuracy bar)")
    return ax


def latency_throughput(result: LoadResult, ax: Axes | None = None) -> Axes:
    """p50 (dashed) and the bound's percentile (solid) against the achieved rate.

    One curve per provider and batching policy, from its runs (a peak search's probes, a
    concurrency sweep's levels, server runs); the bound drawn, each peak starred. Latency
    on a log scale: past capacity it grows by orders of magnitude.
    """
    groups: dict[tuple[str, str], list[tuple[float, float | None, float]]] = defaultdict(list)
    peaks: list[tuple[float, float]] = []
    for row in result.rows:
        key = (row.provider, row.policy)
        if row.probes:
            measured = [p for p in row.probes if p["achieved_qps"] and p["percentile_ms"]]
            groups[key] += [(p["achieved_qps"], p.get("p50_ms"), p["percentile_ms"])
                            for p in measured]  # fmt: skip
        elif row.achieved_qps and row.percentile_ms:
            groups[key].append((row.achieved_qps, row.p50_ms, row.percentile_ms))
        if row.peak_qps and row.percentile_ms:
            peaks.append((row.peak_qps, row.percentile_ms))
    if not groups:
        raise WorkbenchError(
            "Nothing to plot: no run completed a request.",
            "Check the rows' verdicts and reasons: result.to_frame().",
        )
    ax = _axes(ax, len(groups), horizontal=False)
    percentile = result.rows[0].percentile
    styles = ("-", "--", ":", "-.")
    for index, ((provider, policy), points) in enumerate(sorted(groups.items())):
        points.sort()
        colour = _provider_color(provider)
        name = _label(f"{provider.removesuffix('ExecutionProvider')} {policy}", 32)
        xs = [p[0] for p in points]
        ax.plot(xs, [p[2] for p in points], styles[index % 4], marker="o", color=colour,
                label=f"{name} p{percentile:g}")  # fmt: skip
        medians = [p[1] if p[1] is not None else float("nan") for p in points]
        if any(p[1] for p in points):
            ax.plot(xs, medians, styles[index % 4], marker=".", color=colour, alpha=0.5,
                    label=f"{name} p50")  # fmt: skip
    bound = result.settings.get("bound_ms")
    if bound:
        ax.axhline(bound, color="tab:red", linestyle=":", label=f"bound {bound:g} ms")
    for rate, latency in peaks:
        ax.scatter([rate], [latency], marker="*", s=160, color="tab:red", zorder=4)
        ax.annotate(f"peak {rate:.4g}/s", (rate, latency), textcoords="offset points",
                    xytext=(6, -12), fontsize=8)  # fmt: skip
    return _log_latency(
        ax,
        "achieved requests per second",
        "latency from scheduled arrival (ms)",
        f"Latency against throughput: {result.model.get('name', '')}",
    )


def latency_over_time(row: LoadRow, ax: Axes | None = None) -> Axes:
    """Each request's latency at its scheduled time: warm-up and overload show as trends.

    Dropped requests are marked along the top.
    """
    when, latency, dropped = row.timeline()
    if not len(when):
        raise WorkbenchError(
            f"Nothing to plot: {row.label} completed no request.", "Check its verdict and reason."
        )
    ax = _axes(ax, 1, horizontal=False)
    ax.scatter(when, latency, s=4, alpha=0.5, color=_provider_color(row.provider),
               label="completed")  # fmt: skip
    if len(dropped):
        top = float(latency.max())
        ax.scatter(dropped, [top] * len(dropped), marker="x", color="tab:red",
                   s=12, label=f"dropped ({len(dropped)})")  # fmt: skip
    if row.bound_ms:
        ax.axhline(row.bound_ms, color="tab:red", linestyle=":", label=f"bound {row.bound_ms:g} ms")
    return _log_latency(
        ax,
        "scheduled arrival (s since the start)",
        "latency (ms)",
        f"Latency over time: {row.label}",
    )


def _log_latency(ax: Axes, x: str, y: str, title: str) -> Axes:
    """The load plots' common frame: latency on a log scale, labels, legend, grid."""
    ax.set_yscale("log")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(_label(title, 70))
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    return ax


def queue_breakdown(result: LoadResult, ax: Axes | None = None) -> Axes:
    """Mean queueing and service time of each run, stacked: where the latency went."""
    rows = [r for r in result.rows if r.service_ms is not None]
    if not rows:
        raise WorkbenchError(
            "Nothing to plot: no run completed a request.", "Check the rows' verdicts."
        )
    horizontal = len(rows) > HORIZONTAL_ABOVE
    ax = _axes(ax, len(rows), horizontal)
    positions = np.arange(len(rows))
    queue = [r.queue_ms or 0.0 for r in rows]
    service = [r.service_ms or 0.0 for r in rows]
    bar = ax.barh if horizontal else ax.bar
    bar(positions, queue, color="tab:orange", label="queueing")
    if horizontal:
        ax.barh(positions, service, left=queue, color="tab:blue", label="service")
        ax.set_xlabel("mean time per request (ms)")
    else:
        ax.bar(positions, service, bottom=queue, color="tab:blue", label="service")
        ax.set_ylabel("mean time per request (ms)")
    _label_configs(ax, positions, [r.label for r in rows], horizontal)
    ax.set_title("Queueing and service time")
    ax.legend(fontsize=8)
    return ax


def history(result: History, *, by: str = "time", ax: Axes | None = None, top: int = 8) -> Axes:
    """p50 with its 95% CI per configuration series, over time or over run labels.

    One color per configuration, one marker shape per machine; a triangle and the change at
    each detected step; a dotted line where onnxruntime's version changed.
    """
    if by not in ("time", "label"):
        raise WorkbenchError(f"Unknown axis {by!r} for a history plot.", "Use 'time' or 'label'.")
    series = sorted(result.series().items(), key=lambda item: -len(item[1]))[:top]
    if not series:
        raise WorkbenchError(
            "Nothing to plot: the history holds no measured result for this query.",
            "Record some (workbench.benchmark records by default), or widen the query.",
        )
    ax = _axes(ax, 8, horizontal=True)
    machines = list(dict.fromkeys(machine for (_, _, machine) in dict(series)))
    markers = "os^Dv<>P*X"
    steps = {(c.model_key, c.config_label, c.machine, c.time): c for c in result.changes()}
    labels: dict[str, int] = {}
    for (model_key, _, machine), group in series:
        if by == "time":  # from the UTC timestamp: stored times may carry other offsets
            x: Any = list((group["time_s"].to_numpy() * 1e6).astype("datetime64[us]"))
        else:
            x = [labels.setdefault(str(label or time), len(labels))
                 for label, time in zip(group["label"], group["time"], strict=True)]  # fmt: skip
        p50 = group["p50_ms"].to_numpy(dtype=np.float64)
        low = np.nan_to_num(p50 - group["ci_low_ms"].to_numpy(dtype=np.float64))
        high = np.nan_to_num(group["ci_high_ms"].to_numpy(dtype=np.float64) - p50)
        name = f"{group['config_label'].iloc[0]}" + (f" [{model_key}]" if len(
            {k for (k, _, _) in dict(series)}) > 1 else "")  # fmt: skip
        shown = ax.errorbar(x, p50, yerr=np.vstack([np.clip(low, 0, None), np.clip(high, 0, None)]),
                            marker=markers[machines.index(machine) % len(markers)], markersize=4,
                            capsize=2, linewidth=1, label=_label(printable(name), 40))  # fmt: skip
        color = shown[0].get_color()
        versions = group["onnxruntime"].tolist()
        for i in range(1, len(group)):
            if versions[i] != versions[i - 1]:
                ax.axvline(x[i], color=color, linestyle=":", linewidth=1)
        for i, (time, value) in enumerate(zip(group["time"], p50, strict=True)):
            step = steps.get((model_key, group["config_label"].iloc[i], machine, str(time)))
            if step is not None:
                ax.scatter([x[i]], [value], marker="v" if step.ratio < 1 else "^", s=80,
                           color="tab:red", zorder=3)  # fmt: skip
                ax.annotate(f"{step.ratio - 1:+.0%}", (x[i], value), xytext=(4, 6),
                            textcoords="offset points", fontsize=8, color="tab:red")  # fmt: skip
    if by == "label":
        ax.set_xticks(
            list(labels.values()), [_label(printable(t), 16) for t in labels], rotation=30
        )
    else:
        ax.figure.autofmt_xdate()
    ax.set_ylabel("p50 latency (ms), 95% CI")
    title = "History: p50 per configuration (red: detected steps)"
    if len(machines) > 1:
        shapes = ", ".join(f"{markers[i % len(markers)]} {m}" for i, m in enumerate(machines))
        title += f"; markers: {shapes}"
    ax.set_title(_label(title, 110), fontsize=9)
    ax.legend(fontsize=7)
    return ax

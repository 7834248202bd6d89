"""The `%onnx` subcommands, one module each.

Each holds its parser and its body, a few public-API calls (see `--show-code`). `ALL` lists
them in the order `%onnx --help` shows.
"""

from __future__ import annotations

from workbench.magics.parser import Subcommand
from workbench.magics.subcommands import (
    bench,
    compare,
    diff,
    doctor,
    explore,
    graph,
    history,
    info,
    list_models,
    load,
    load_test,
    localize,
    profile,
    report,
    run,
    variants,
)

ALL: tuple[Subcommand, ...] = tuple(
    module.SUBCOMMAND
    for module in (
        load,
        list_models,
        info,
        graph,
        run,
        compare,
        bench,
        load_test,
        history,
        variants,
        diff,
        localize,
        profile,
        explore,
        report,
        doctor,
    )
)

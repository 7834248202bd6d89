"""The samples accuracy is measured on: the user's data, or synthetic feeds said to be so.

`evaluate()`, `localize()` and int8-static's calibration read them here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from workbench.errors import WorkbenchError
from workbench.feeds.files import load_samples
from workbench.ort.options import SessionConfig

if TYPE_CHECKING:
    from workbench.model.model import Model


def synthetic_samples(
    model: Model,
    count: int,
    *,
    dims: Mapping[str, int] | None = None,
    values: Mapping[str, Any] | None = None,
    ranges: Mapping[str, Any] | None = None,
    batch: int | None = None,
) -> list[dict[str, Any]]:
    """`count` synthetic feeds (seeds 0, 1, ...), shaped as `Model.run` shapes them."""
    with model.open_session(SessionConfig.make("cpu")) as session:
        return [
            dict(
                session.prepare_feeds(
                    values=values, dims=dims, ranges=ranges, batch=batch, seed=seed
                ).values
            )
            for seed in range(count)
        ]


def sample_feeds(
    model: Model,
    data: Any,
    *,
    count: int,
    dims: Mapping[str, int] | None = None,
    values: Mapping[str, Any] | None = None,
    ranges: Mapping[str, Any] | None = None,
    batch: int | None = None,
) -> tuple[list[dict[str, Any]], str, list[str]]:
    """The feeds, where they came from, and what to know of them.

    `data`: feeds (a dict or a list of dicts), an .npz file, a test_data_set folder or a
    folder of them, each checked against the model's inputs; without it, `count` synthetic
    samples and a note that agreement on them is no evidence of accuracy.
    """
    if data is not None:
        checker = model.session_source.checker
        feeds = [dict(checker.check(sample)) for sample in load_samples(data, model)]
        if not feeds:
            raise WorkbenchError("The data holds no sample.", "Give at least one set of feeds.")
        label = str(data) if isinstance(data, str | os.PathLike) else "the samples given"
        return feeds, label, []
    if count < 1:
        raise WorkbenchError(f"samples must be 1 or more, not {count}.", "E.g. samples=16.")
    feeds = synthetic_samples(model, count, dims=dims, values=values, ranges=ranges, batch=batch)
    note = (
        f"Accuracy is measured on {count} synthetic samples: agreement with the reference on "
        "random inputs is no evidence of accuracy on real data. Pass data= (feeds, an .npz "
        "file or test_data_set folders)."
    )
    return feeds, f"{count} synthetic samples", [note]

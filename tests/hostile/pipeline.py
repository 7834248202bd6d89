"""What every hostile input goes through: load, every kind of inspection, check and a run."""

from __future__ import annotations

import warnings

import workbench
from workbench.display import graph_text, model_text


def exercise(source: object) -> str:
    """Load, inspect every way, check and run once; the outcome in a few words.

    A `WorkbenchError` is an accepted outcome; any other exception propagates: it is a bug.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model = workbench.load(source)
        except workbench.WorkbenchError as error:
            assert error.message and error.hint is not None
            return f"refused at load: {type(error).__name__}"
        try:
            model.summary()
            repr(model)
            model._repr_html_()
            model_text(model)
            graph_text(model)
            model.check()
            model.run()
        except workbench.WorkbenchError as error:
            assert error.message
            return f"refused: {type(error).__name__}"
        finally:
            model.close()
    return "ran"

"""ipywidgets apps over the public API: state in traitlets, logic in the core."""

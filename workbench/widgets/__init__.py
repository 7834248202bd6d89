"""ipywidgets apps over the public API: state in traitlets, logic in the core."""

from workbench.errors import optional_import

# Without ipywidgets there is no explorer: say which extra brings it, not a bare import error.
optional_import("ipywidgets", feature="The explorer", extra="jupyter")

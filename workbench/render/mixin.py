"""One mixin gives every result its text, its notebook views and its report files.

A result names its template once (`template = "compare"`): `compare.txt.j2` renders its
`text()` (and `str()`, and IPython's pretty print), `compare.html.j2` its `_repr_html_()`;
`report(path)` writes that HTML as a self-contained page, `as_dict()` as JSON, and where
a result lists them in `report_formats`, its `to_frame()` as CSV and `compare.md.j2` as
Markdown (a pull-request comment).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, ClassVar

from workbench.render import files
from workbench.render.templates import render


class Rendered:
    """Text, HTML and report files from one template name; subclasses define `as_dict()`."""

    __slots__ = ()
    template: ClassVar[str]
    title: ClassVar[str]  # the report page's title
    report_formats: ClassVar[tuple[str, ...]] = ("html", "json")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # IPython's printer uses the first class in the MRO that defines `__repr__` or
        # `_repr_pretty_`; a dataclass defines `__repr__`, so each subclass gets its own copy.
        cls._repr_pretty_ = Rendered._repr_pretty_  # type: ignore[method-assign]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready content (what `--json` prints and a .json report holds)."""
        raise NotImplementedError

    def render_context(self) -> dict[str, Any]:
        """What the templates see: the object as `result`, unless a subclass adds more."""
        return {"result": self}

    def text(self) -> str:
        """The plain-text view, for terminals and logs."""
        return render(f"{self.template}.txt.j2", **self.render_context()).rstrip("\n")

    def __str__(self) -> str:
        return self.text()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self) if cycle else self.text())

    def _repr_html_(self) -> str:
        return render(f"{self.template}.html.j2", **self.render_context())

    def report(
        self, path: str | os.PathLike[str], *, formats: Sequence[str] | None = None
    ) -> list[str]:
        """Write the report; the format follows the suffix (see `report_formats`).

        `formats=("html", "json")` writes several next to each other. Writes are atomic.
        """
        return files.write_report(self, path, formats=formats)

    def report_bytes(self, kind: str) -> bytes:
        """The report file's content in format `kind` (one of `report_formats`)."""
        if kind == "html":
            return files.html_page(self.title, self._repr_html_())
        if kind == "json":
            return files.json_bytes(self.as_dict())
        if kind == "csv" and hasattr(self, "to_frame"):  # a result with a table
            table: str = self.to_frame().to_csv(index=False)
            return table.encode()
        if kind == "md":
            return render(f"{self.template}.md.j2", **self.render_context()).encode()
        raise ValueError(f"{type(self).__name__} has no {kind!r} report")

"""The package's jinja2 templates, rendered with every model string treated as untrusted.

HTML templates (`*.html.j2`) autoescape; text (`*.txt.j2`) and Markdown (`*.md.j2`) ones do
not (Markdown cells go through `md_cell`), but all show control characters as escapes
(`printable`), so a doc string cannot hide or reorder text.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from workbench import text

if TYPE_CHECKING:
    import jinja2

HTML_SUFFIX = ".html.j2"


def render(template: str, **context: Any) -> str:
    """Render a package template; HTML ones escape every string they are given."""
    return _environment().get_template(template).render(**context)


def md_cell(value: object) -> str:
    """Text safe in a Markdown table cell: pipes escaped, newlines and markup neutralized."""
    return (
        text.printable(str(value))
        .replace("\\", "\\\\")
        .replace("|", "\\|")
        .replace("\n", " ")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
    )


@functools.cache
def _environment() -> jinja2.Environment:
    import jinja2  # noqa: PLC0415  (heavy: only rendering needs it)
    import markupsafe  # noqa: PLC0415  (installed with jinja2)

    def shown(value: Any) -> Any:
        # Control characters would hide or reorder text (bidi overrides): show them as escapes.
        # Markup (|tojson, |safe) is already encoded for its context and is left alone.
        plain = isinstance(value, str) and not isinstance(value, markupsafe.Markup)
        return text.printable(value) if plain else value

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("workbench", "render/templates"),
        autoescape=lambda name: name is None or name.endswith(HTML_SUFFIX),
        finalize=shown,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    environment.filters["format_cell"] = lambda cell: f" {cell:>13}"  # a text table's cell
    environment.filters["md_cell"] = md_cell
    environment.globals.update(
        columns=text.columns,
        describe_node=text.describe_node,
        human_bytes=text.human_bytes,
        human_count=text.human_count,
        parameters_text=text.parameters_text,
        plural=text.plural,
    )
    return environment

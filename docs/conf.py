"""Sphinx configuration: MyST Markdown, furo, autodoc, built offline with -W and -n.

Every cross-reference is checked (``nitpicky``).  References to the project's own
names must resolve: type annotations name classes by the module that defines them
(``experiments.model.learning.Evidence``), while the reference documents them where
users import them (``experiments.Evidence``), so :func:`_resolve_own_names` links the
one to the other by identity.  Only standard-library and third-party names, which
cannot resolve without remote inventories, are let through (``nitpick_ignore_regex``).
"""

from __future__ import annotations

import enum
import functools
import importlib
import inspect
import re
import typing
from typing import Any

import attrs
from docutils import nodes
from sphinx.util.nodes import make_refnode

import experiments

project = "strategy-experiments"
author = "The strategy-experiments developers"
copyright = "2026, The strategy-experiments developers"
release = experiments.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
]
source_suffix = {".md": "markdown"}
master_doc = "index"
exclude_patterns = ["_build"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "undoc-members": False}
autodoc_type_aliases: dict[str, str] = {}
napoleon_google_docstring = True
napoleon_numpy_docstring = False

nitpicky = True
# The standard library's and third-party libraries' names: without intersphinx (the
# build runs offline) they cannot resolve, and they are shown as written.
_FOREIGN = (
    "abc",
    "attrs",
    "builtins",
    "cattrs",
    "click",
    "collections",
    "collections.abc",
    "contextlib",
    "datetime",
    "decimal",
    "enum",
    "gettext",
    "hypothesis",
    "jinja2",
    "json",
    "os",
    "pandas",
    "pathlib",
    "pd",  # pandas, as annotations import it
    "pendulum",
    "pl",  # polars, as annotations import it
    "pluggy",
    "polars",
    "psycopg",
    "pytest",
    "_pytest",
    "re",
    "threading",
    "types",
    "typing",
)
nitpick_ignore_regex = [
    ("py:.*", rf"~?({'|'.join(re.escape(m) for m in _FOREIGN)})\..+"),
    # Bare names of the standard library, as annotations write them.
    (
        "py:.*",
        (
            r"(Path|Mapping|MutableMapping|Sequence|Iterable|Iterator|Generator|Callable|"
            r"Collection|Set|AbstractSet|Any|Self|Final|ClassVar|TracebackType|PathLike|"
            r"Enum|datetime|date|timedelta|Decimal|TextIO|BinaryIO|IO|Literal|Protocol|array)"
        ),
    ),
    # pluggy's type variable in the signature of HookimplMarker (experiments.hookimpl).
    ("py:class", r"_F"),
]

html_theme = "furo"
html_title = "strategy-experiments"
html_static_path: list[str] = []


# --- attrs classes: defaults as a reader would write them ------------------------------


def _default_text(field: attrs.Attribute[Any]) -> str | None:  # type: ignore[type-var]
    """How an attrs field's default reads in a signature: ``[]``, ``now()``, ``'weak'``."""
    default = field.default
    if default is attrs.NOTHING:
        return None
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        factory = default.factory
        if factory in (list, dict, tuple, set, frozenset):
            return repr(factory())
        name = getattr(factory, "__name__", "factory").lstrip("_")
        return f"{name}(self)" if default.takes_self else f"{name}()"
    if isinstance(default, enum.Enum):
        return f"{type(default).__name__}.{default.name}"
    return repr(default)


def _attrs_signature(
    _app: Any,
    what: str,
    _name: str,
    obj: Any,
    _options: Any,
    signature: str | None,
    ret: str | None,
) -> tuple[str, str | None] | None:
    """Signatures of attrs classes with their real defaults instead of ``=NOTHING``."""
    if what != "class" or not inspect.isclass(obj) or not attrs.has(obj) or signature is None:
        return None
    fields = {f.alias or f.name: f for f in attrs.fields(obj) if f.init}
    parts: list[str] = []
    star = False
    for parameter in inspect.signature(obj).parameters.values():
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY and not star:
            parts.append("*")
            star = True
        field = fields.get(parameter.name)
        text = _default_text(field) if field is not None else None
        if text is None and parameter.default is not inspect.Parameter.empty:
            text = repr(parameter.default)
        parts.append(parameter.name if text is None else f"{parameter.name}={text}")
    return f"({', '.join(parts)})", ret


# --- the project's own names, linked where they are documented --------------------------


def _import(path: str) -> Any:
    """The object a dotted path names, or None.

    Attributes are looked up before submodules are imported: importing
    ``experiments.reports.schema`` (a directory of data) would replace the function of
    that name on its package.
    """
    parts = path.split(".")
    try:
        found: Any = importlib.import_module(parts[0])
        for depth, part in enumerate(parts[1:], start=2):
            if hasattr(found, part):
                found = getattr(found, part)
            elif inspect.ismodule(found):
                found = importlib.import_module(".".join(parts[:depth]))
            else:
                return None
    except ImportError:
        return None
    return found


@functools.cache
def _documented(names: tuple[str, ...]) -> dict[int, str]:
    """Documented project objects, by identity: id(object) -> documented name."""
    found: dict[int, str] = {}
    for name in sorted(names, key=len):  # the shortest documented name wins
        obj = _import(name)
        if obj is not None and not isinstance(obj, str | int | float | bool):
            found.setdefault(id(obj), name)
    return found


def _private_alias_text(obj: Any) -> str | None:
    """What a private type alias or type variable stands for, to show instead of a link."""
    if isinstance(obj, typing.TypeVar):
        return obj.__name__
    if isinstance(obj, str):  # an alias written as text: "pendulum.DateTime | dt.date | str"
        return re.sub(r"\bdt\.", "datetime.", obj)
    return None


def _resolve_own_names(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    """Link a reference to one of the project's names to where it is documented."""
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].lstrip("~.")
    objects = env.get_domain("py").objects
    names = tuple(n for n in objects if n.startswith("experiments"))
    documented = _documented(names)
    candidates = [target]
    if "." not in target or not target.startswith("experiments"):
        module = node.get("py:module") or ""
        candidates = [f"{module}.{target}"] if module else []
        candidates += [n for n in names if n.endswith(f".{target}")]
        candidates += [f"experiments.model._time.{target.removeprefix('_time.')}"]
    for candidate in candidates:
        obj = _import(candidate) if candidate.startswith("experiments") else None
        if obj is None:
            continue
        name = candidate if candidate in objects else documented.get(id(obj))
        if name is not None:
            entry = objects[name]
            return make_refnode(
                app.builder, node["refdoc"], entry.docname, entry.node_id, contnode, name
            )
        text = _private_alias_text(obj)
        if text is not None:
            return nodes.literal(text, text)
    return None


def setup(app: Any) -> None:
    # Mermaid diagrams are shown as their text here (GitHub draws them); no lexer needed.
    from pygments.lexers.special import TextLexer  # noqa: PLC0415
    from sphinx.highlighting import lexers  # noqa: PLC0415

    lexers["mermaid"] = TextLexer()
    app.connect("autodoc-process-signature", _attrs_signature)
    app.connect("missing-reference", _resolve_own_names)

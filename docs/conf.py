"""Sphinx configuration: MyST Markdown, furo, autodoc, built offline with -W."""

from __future__ import annotations

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
nitpicky = False

html_theme = "furo"
html_title = "strategy-experiments"
html_static_path: list[str] = []

"""The course's notebooks, executed on every build (an MkDocs hook, named in mkdocs.yml).

- Links: a notebook links to the other notebooks and pages by their files
  (``02-one-step-by-hand.ipynb``, ``../guides/literature.md``), so that the links work
  in Jupyter. MkDocs rewrites such links in Markdown pages but not in a notebook's HTML:
  here each becomes the target page's URL, and a link to a file the site does not
  have fails the build, as a broken link in a Markdown page does under ``--strict``.
- BLAS threads: mkdocs-jupyter starts one kernel per notebook, and each kernel inherits
  this process's environment. The notebooks multiply small matrices (a few hundred
  rows at a time), for which one BLAS thread is as fast as several on an idle machine
  and much faster on a busy one, where BLAS threads wait for each other's turn on the
  cores. So, unless the builder chose a thread count, the kernels get one BLAS thread.
"""

from __future__ import annotations

import os
import posixpath
import re
from typing import Any

from mkdocs.exceptions import PluginError

#: The variables by which OpenBLAS (NumPy's BLAS) and OpenMP read a thread count.
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")
#: A relative link to a notebook or a Markdown page, with an optional anchor.
FILE_LINK = re.compile(r'href="(?P<path>(?![a-zA-Z][a-zA-Z0-9+.-]*:|/|#)[^"#?]+\.(?:ipynb|md))'
                       r'(?P<anchor>#[^"]*)?"')


def on_config(config: Any) -> Any:
    if not any(name in os.environ for name in THREAD_VARIABLES):
        os.environ["OPENBLAS_NUM_THREADS"] = "1"
    return config


def on_page_content(html: str, page: Any, config: Any, files: Any) -> str:
    """A notebook's links to files, made links to their pages."""
    source = page.file.src_uri
    if not source.endswith(".ipynb"):
        return html

    def to_page(link: re.Match[str]) -> str:
        path = posixpath.normpath(posixpath.join(posixpath.dirname(source), link["path"]))
        target = files.get_file_from_path(path)
        if target is None:
            raise PluginError(f"{source} links to {link['path']}, which is not in the site")
        return f'href="{target.url_relative_to(page.file)}{link["anchor"] or ""}"'

    return FILE_LINK.sub(to_page, html)

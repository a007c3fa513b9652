"""The lab's pages as notebook widgets (anywidget): ``bp.lab.Playground``, ``Sandbox``,
``Regression``.

One front end, two transports: each widget runs the lab page's own document and scripts
in its cell (:mod:`~backprop.lab.notebook.assets` assembles them into the one ES module
anywidget loads), and drives the page's own Python class in the kernel
(:mod:`~backprop.lab.notebook.widget`) through the widget model instead of a WebSocket.
The playground also takes the notebook's own arrays and network
(:mod:`~backprop.lab.notebook.playground`, :mod:`~backprop.lab.notebook.own_data`).
Needs the extra ``backprop-mlp[notebook]``. See docs/guides/notebook-widgets.md.
"""

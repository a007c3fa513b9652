"""/playground: a small network learning 2-D data, drawn live, forward and backward.

``page`` is the tab's logic (:class:`~backprop.lab.playground.page.PlaygroundPage`),
``protocol`` its messages; the run, its data, the network, the pictures, the close-ups
and the files each have a module; ``static/`` holds the page and its scripts.
"""

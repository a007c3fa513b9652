"""/sandbox: one small network, every number of one training step, and a check of them.

``page`` is the tab's logic (:class:`~backprop.lab.sandbox.page.SandboxPage`),
``protocol`` its messages, ``state`` the sandbox itself (network, batch, η, the
backward rule), ``check`` the gradient check, ``text`` the worked step's lines per
number; ``static/`` holds the page.
"""

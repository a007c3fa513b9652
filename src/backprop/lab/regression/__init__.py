"""/regression: gradient descent on one linear unit, the loss surface and its path, live.

``page`` is the tab's logic (:class:`~backprop.lab.regression.page.RegressionPage`),
``protocol`` its messages, ``math`` the exact picture (least squares, the Hessian,
contours), ``text`` the formulas with the numbers put in; ``static/`` holds the page.
"""

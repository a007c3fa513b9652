"""The lab: a local web app (``backprop lab``) that drives this library's engine live.

Python computes every number (the Network, the optimizers, ``bp.explain``,
``bp.gradcheck``); the pages in ``static/`` only draw what the server streams
over one WebSocket per tab. Needs the optional extra ``backprop-mlp[lab]``
(starlette, uvicorn, pydantic); import :func:`backprop.lab.app.create_app`.
"""

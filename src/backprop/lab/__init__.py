"""The lab: a local web app (``backprop lab``) that drives this library's engine live.

Python computes every number (the Network, the optimizers, ``bp.explain``,
``bp.gradcheck``); the pages only draw what the server streams over one
WebSocket per tab. Each page is a package (``regression/``, ``sandbox/``,
``playground/``) holding its server code, its message schemas and its static
files; ``app``, ``session``, ``protocol`` and ``static/`` are what they share, and
``access``, ``guard``, ``capacity`` and ``turns`` guard them (who may connect, the
security headers, the session caps, fair turns of the CPU; docs/guides/lab-safety.md).
Needs the optional extra ``backprop-mlp[lab]`` (starlette, uvicorn, pydantic);
import :func:`backprop.lab.app.create_app`.
"""

"""``python -m backprop.aot``: build this machine's module of compiled passes."""

from backprop.aot.build import main

raise SystemExit(main())

"""``python -m backprop`` runs the command line."""

import sys

from backprop.cli.entry import main

sys.exit(main())

"""``python -m payments.entrypoints.cli``: the same as the ``payments`` command."""

import sys

from payments.entrypoints.cli import main

sys.exit(main())

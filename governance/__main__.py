"""``python -m governance``: the Driftgate command line."""

from __future__ import annotations

import sys

from governance.cli import main

sys.exit(main())

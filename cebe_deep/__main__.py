"""``python -m cebe_deep`` is the ``cebe-deep`` command."""

import sys

from cebe_deep.cli import main

sys.exit(main())

"""``python -m cebe_theory`` is the ``cebe-theory`` command."""

import sys

from cebe_theory.cli import main

sys.exit(main())

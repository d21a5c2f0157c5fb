"""``python -m cebe_course``: the ``cebe-course`` command."""

import sys

from cebe_course.cli import main

sys.exit(main())

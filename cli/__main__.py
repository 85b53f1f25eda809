"""`python -m tracktui.cli ...` is `tracktui ...`."""

import sys

from .main import main

sys.exit(main())

"""``python -m cnnlab.train``: the course's one training command (see :mod:`cnnlab.train.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())

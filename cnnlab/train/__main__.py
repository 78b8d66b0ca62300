"""``python -m cnnlab.train``: the course's one training command."""

import sys

from .lenet5 import main

if __name__ == "__main__":
    sys.exit(main())

"""Training the course's Keras models: one loop, one command.

    python -m cnnlab.train lenet5 --variant modern
"""

from __future__ import annotations

from .lenet5 import *  # noqa: F401,F403
from .lenet5 import __all__  # noqa: F401

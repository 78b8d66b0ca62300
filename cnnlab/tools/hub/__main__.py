import sys

from cnnlab.tools.hub.cli import main

sys.exit(main())

"""``python -m rag``: the ``rag`` command (``rag.cli``); nothing else happens here."""

import sys

from rag.cli import main

sys.exit(main())

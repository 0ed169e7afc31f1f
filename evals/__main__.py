"""``python -m evals``: run the evaluation harness."""

from __future__ import annotations

import sys

from evals.harness import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

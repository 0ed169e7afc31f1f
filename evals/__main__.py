"""``python -m evals``: run the evaluation harness (``evals.harness``), or with
``--llm-faults`` the fault catalogue (``evals.llm_faults``); it parses no option itself."""

from __future__ import annotations

import sys

from evals.harness import main

if __name__ == "__main__":
    if "--llm-faults" in sys.argv[1:]:
        from evals.llm_faults import main as llm_faults_main

        sys.exit(llm_faults_main(sys.argv[1:]))
    sys.exit(main(sys.argv[1:]))

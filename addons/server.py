"""The one way this project starts a Rasa server: ``python -m addons.server <rasa command> [arguments]``.

It checks the installed Rasa and applies :mod:`addons.rasa_tuning` in this process, then hands the
arguments to Rasa's own command line, so ``python -m addons.server run --port 5006 …`` is ``rasa run
--port 5006 …`` with the adjustments, whatever channels ``credentials.yml`` lists. ``make run`` and
each ``make run-scaled`` replica (scripts/stack.py) and ``make shell`` start Rasa through it. A Rasa
other than the one the adjustments were written for stops it before anything starts, with a message
naming what differs (exit code 3).
"""
from __future__ import annotations

import sys
from typing import List, Optional

#: Exit code when the installed Rasa does not match addons/rasa_tuning.py.
MISMATCH_EXIT = 3


def main(argv: Optional[List[str]] = None) -> int:
    from addons import rasa_tuning

    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        rasa_tuning.configure()
    except rasa_tuning.RasaMismatch as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return MISMATCH_EXIT
    print(f"addons.server: {rasa_tuning.summary()}", file=sys.stderr, flush=True)

    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *arguments]
    rasa_main()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Rasa's command line, with the project's Rasa patches applied first.

    python -m deploy.rasa_entry run --enable-api ...    # what deploy.launcher starts
    python -m deploy.rasa_entry train ... | test ...   # any other Rasa command works the same

``nlu_components.patches.apply()`` (equivalent speed-ups, only on Rasa 3.6.x) runs before
Rasa loads anything. ``run`` also checks that DATABASE_URL is at the latest migration (the
Messenger channel keeps its state there): the launcher migrates before starting the server,
which never migrates on its own and stops at once with a clear message otherwise.
"""
from __future__ import annotations

import sys
from typing import List, Optional


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from nlu_components import patches

    patches.apply()
    if argv[:1] == ["run"] and argv[1:2] != ["actions"]:
        from townhall import schema

        try:
            schema.checked()
        except schema.SchemaNotAtHead as error:
            print(f"ERROR: {error}", file=sys.stderr)
            return 2
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *argv]
    rasa_main()
    return 0


if __name__ == "__main__":
    sys.exit(main())

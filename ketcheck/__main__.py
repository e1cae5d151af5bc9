"""The console entry point: the `ketcheck` script and `python -m ketcheck`."""

import os
import sys
from typing import NoReturn


def main() -> NoReturn:
    """Run the command line; the only place that changes process-wide settings."""
    # An editable install run under PYTHONDONTWRITEBYTECODE would compile every module it loads
    # on every run (tens of ms): the command owns its process, so it writes ketcheck's bytecode
    # before importing the CLI. `import ketcheck` changes nothing (a test runs it both ways).
    if sys.dont_write_bytecode and not os.environ.get("KETCHECK_NO_BYTECODE"):
        sys.dont_write_bytecode = False
    from ketcheck.cli import main as run

    run()


if __name__ == "__main__":
    main()

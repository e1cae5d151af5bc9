"""The console entry point: the `ketcheck` script and `python -m ketcheck`."""

import os
import sys
from typing import NoReturn

GC_FIRST_GENERATION = 100_000


def main() -> NoReturn:
    """Run the command line; the only place that changes process-wide settings."""
    # An editable install run under PYTHONDONTWRITEBYTECODE would compile every module it loads
    # on every run (tens of ms): the command owns its process, so it writes ketcheck's bytecode
    # before importing the CLI. `import ketcheck` changes nothing (a test runs it both ways).
    if sys.dont_write_bytecode and not os.environ.get("KETCHECK_NO_BYTECODE"):
        sys.dont_write_bytecode = False
        _write_bytecode_of_loaded()
    # Start-up makes some 100,000 long-lived objects (Typer, the classes, the knowledge base) and
    # next to no garbage cycles: at the default threshold (700) the collector would scan them
    # over a hundred times. A larger first generation keeps collections rare, and cycles bounded
    # in long batch runs (4% of a short check; peak memory of a 100,000-line check unchanged).
    import gc

    gc.set_threshold(GC_FIRST_GENERATION, *gc.get_threshold()[1:])
    from ketcheck.cli import main as run

    run()


def _write_bytecode_of_loaded() -> None:
    """Write the bytecode of this module and the package, loaded before writing was turned on."""
    for module in (sys.modules["ketcheck"], sys.modules[__name__]):
        source, cached = getattr(module, "__file__", None), getattr(module, "__cached__", None)
        if not source or not cached:
            continue
        try:
            if os.stat(cached).st_mtime >= os.stat(source).st_mtime:
                continue
        except FileNotFoundError:
            pass
        except OSError:
            continue
        import py_compile
        from contextlib import suppress

        # A read-only install keeps compiling them in memory, as before.
        with suppress(OSError, py_compile.PyCompileError):
            py_compile.compile(source, cfile=cached, doraise=True)


if __name__ == "__main__":
    main()

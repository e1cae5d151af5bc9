"""`python -m ketcheck`: the same command-line interface as the `ketcheck` script."""

from ketcheck.cli import main

if __name__ == "__main__":
    main()

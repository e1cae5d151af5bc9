"""Errors that end a run with exit code 2 and a one-line message."""

from __future__ import annotations


class KetcheckError(Exception):
    """A usage, input or data problem: nothing was checked."""

    exit_code = 2  # ExitCode.ERROR; a test pins it (importing the model here would slow --help)


class InputError(KetcheckError):
    """The medication list or an option value cannot be used."""


class DataError(KetcheckError):
    """The bundled knowledge base is invalid; names the file and key."""


class ProtocolError(KetcheckError):
    """A clinic protocol file is missing or invalid; names the file, key and reason."""


class WorkerError(KetcheckError):
    """A worker process of a batch ended before its work was done: the output is incomplete."""

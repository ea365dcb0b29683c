"""Exceptions raised by prism, one per status code of the C library.

Each carries prism's own message (which names the key, file or id at fault and what to do) and
subclasses the built-in exception a Python programmer would catch for it, so ``except
ValueError`` or ``except KeyError`` work as expected. All but ``TrainingInterrupted`` also
subclass ``PrismError``.
"""


class PrismError(Exception):
    """Base class of prism's errors."""


class InvalidArgumentError(PrismError, ValueError):
    """A bad argument, setting or value: the caller's input is wrong."""


class NotFoundError(PrismError, KeyError):
    """An unknown id (environment, preset, setting, run) or a missing file."""

    __str__ = Exception.__str__  # KeyError would show the message in quotes


class PrismIOError(PrismError, OSError):
    """A read or write failed (permissions, full disk)."""


class CorruptFileError(PrismError, ValueError):
    """A file is truncated, damaged or of a version prism cannot read."""


class PrismMemoryError(PrismError, MemoryError):
    """An allocation failed."""


class UnsupportedError(PrismError, ValueError):
    """A valid request this object cannot serve (e.g. numpy_rng on a classic-control env)."""


class DivergedError(PrismError, RuntimeError):
    """Training produced NaN or Inf; ``run_dir`` names the archived run."""


class ClosedError(PrismError, RuntimeError):
    """The environment was closed."""


class ResetNeeded(PrismError, RuntimeError):
    """step() before reset(), or after the episode ended."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM) stopped prism.train; ``run_dir`` names the archived run, which
    ``prism train --resume`` continues."""

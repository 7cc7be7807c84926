"""The errors a user's input causes: the CLI prints one as a single `error:` line and exits with status 2.

It imports nothing of the project, so trainables and search spaces raise these too.
"""


class InputError(ValueError):
    """The input is wrong, not the program: the message names the bad value and what is allowed."""


class UsageError(InputError):
    """A flag value, name or location the user gave that cannot be used."""


class SpaceError(InputError):
    """A search space that cannot be used; the message names the param and what is allowed."""


class DataError(InputError):
    """Data the user gave that cannot be used; the message says what is wrong and what would work."""

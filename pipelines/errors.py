"""The error a user's input causes: the CLI prints it as one `error:` line and exits with status 2."""
from search_spaces.space import SpaceError
from trainables.tabular_data import DataError


class UsageError(ValueError):
    """A flag value, name or location the user gave that cannot be used."""


# Everything that means "the input is wrong", not "the program is wrong".
INPUT_ERRORS = (UsageError, SpaceError, DataError)

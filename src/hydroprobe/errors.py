"""One exception type for bad user input, so scripts can print a single clear line."""


class InputDataError(ValueError):
    """Input data (a file, basin, column or config key) is missing or malformed.

    The message is one line and names the file, basin or key at fault.
    """

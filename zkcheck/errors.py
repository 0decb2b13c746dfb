"""The one error type the command line turns into a single line and exit code 2."""


class InputError(ValueError):
    """Bad usage or bad input: a configuration, file or option that cannot be used.

    The message is one line that names what is wrong (and where: file and line number for
    files). The CLI prints it as ``zkcheck: error: <message>`` and exits with code 2.
    """


class InternalError(RuntimeError):
    """Not a verdict: two analyses disagree, or zkcheck itself failed.

    The CLI prints one line ``zkcheck: internal error: <message>`` and exits with code 4
    (details, such as the traceback, only with ``zkcheck --debug``).
    """

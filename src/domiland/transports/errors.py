"""The one base class of every transport failure, so use cases can tell "the server" from "the data"."""


class TransportError(Exception):
    """Reaching or talking to an outside system failed; the same call may pass later."""

from __future__ import annotations


class ImportFout(Exception):
    """An import cannot go ahead; the message is plain Dutch for the user and nothing has been changed."""

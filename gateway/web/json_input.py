"""Reading a JSON request body that may be hostile: not JSON at all, or nested thousands of levels deep."""

from flask import request


def request_json():
    """The request's JSON body, or None when it is absent, not JSON, or nested too deep to parse."""
    try:
        return request.get_json(silent=True)
    except RecursionError:  # Python's parser gives up near 1,000 levels; that is bad input, not a server fault
        return None

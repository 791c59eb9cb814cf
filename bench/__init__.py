"""Throughput benchmark: the gateway against a bare-WSGI floor over the same database (``make bench``)."""

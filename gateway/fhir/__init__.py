"""The FHIR door: the API handlers, the lean WSGI front, the access check, search parsing, capability."""

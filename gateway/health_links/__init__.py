"""SMART Health Links (HL7 SMART Health Cards and Links IG STU1): the patient shares a record as a ``shlink:/``
link and QR code pointing at encrypted FHIR served from a manifest endpoint.

``link`` makes and parses links, ``payload`` builds what is shared, ``sealing`` encrypts it, ``sharing`` keeps
the links (create, list, revoke, answer a manifest request), ``manifest_api`` is the public door.
"""

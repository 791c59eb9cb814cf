"""SMART Health Links (HL7 SMART Health Cards and Links IG STU1): the patient shares a record as a ``shlink:/``
link and QR code pointing at encrypted FHIR served from a manifest endpoint, and the practice reads a link a
patient brings.

``link`` makes and parses links, ``payload`` builds what is shared, ``sealing`` encrypts it, ``sharing`` keeps
the links (create, list, revoke, answer a manifest request), ``manifest_api`` is the public door; ``reader``
(with ``reader_cards`` for SMART Health Cards) fetches and decrypts a link at the check-in desk.
"""

"""SMART Health Links: sharing a record by link and QR code, and reading a link a patient brings."""

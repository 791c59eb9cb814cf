"""FHIR Bulk Data Access 2.0 export: kick-off requests, jobs run by a worker pool, NDJSON files and manifests."""

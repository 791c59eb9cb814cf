"""The SMART authorization server's doors: token and registration endpoints, consent pages, grants API,
EHR launch, and the OpenAPI description of the JSON APIs."""

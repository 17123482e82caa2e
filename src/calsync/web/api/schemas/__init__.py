"""Request and response bodies of the REST API (pydantic v2), one module per resource.

Responses are built from the CRM's records but list their fields explicitly, so a secret added to a
table (a password hash, a token hash) never leaks into the API by accident.
"""

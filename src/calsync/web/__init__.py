"""The web edge of CalSync: the REST API under `/api/v1` (and, later, the web app's pages).

Everything here is a thin layer over `calsync.crm`'s services: it authenticates the caller, turns
HTTP requests into service calls and service results (or errors) into JSON. Business rules live in
the services, never here.
"""

from calsync.web.app import create_app
from calsync.web.settings import WebSettings

__all__ = ["WebSettings", "create_app"]

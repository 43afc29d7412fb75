"""The interactive API docs at ``/docs``, with Swagger UI served from the package, not a CDN.

FastAPI's own ``/docs`` page loads Swagger UI from a CDN and starts it with an inline script;
this one loads the vendored copy in ``api/static/docs`` (see its README) and starts it from a
file, so it works without network access and under the content security policy of
:mod:`api.headers`. Create the app with ``docs_url=None, redoc_url=None`` and call
:func:`install_docs`.
"""

from __future__ import annotations

import html
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response

DOCS_URL = "/docs"
ASSETS_URL = "/docs/assets"
ASSETS = Path(__file__).resolve().parent / "static" / "docs"
#: The files the page loads, with their media types (nothing else in the folder is served).
MEDIA_TYPES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-init.js": "text/javascript",
    "swagger-ui.css": "text/css",
}


def docs_page(title: str, openapi_url: str) -> str:
    """The ``/docs`` page: Swagger UI reading ``openapi_url``, every file from this site."""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} - API docs</title>
<link rel="stylesheet" href="{ASSETS_URL}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi="{html.escape(openapi_url)}"></div>
<script src="{ASSETS_URL}/swagger-ui-bundle.js"></script>
<script src="{ASSETS_URL}/swagger-init.js"></script>
</body>
</html>
"""


def install_docs(app: FastAPI) -> None:
    """Serve ``/docs`` and its Swagger UI files from the package (the app's ``openapi_url``)."""
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get(DOCS_URL, include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return HTMLResponse(docs_page(f"{app.title} {app.version}", openapi_url))

    @app.get(ASSETS_URL + "/{name}", include_in_schema=False)
    def swagger_ui_asset(name: str) -> Response:
        if name not in MEDIA_TYPES:
            return Response(status_code=404)
        return FileResponse(
            ASSETS / name,
            media_type=MEDIA_TYPES[name],
            headers={"Cache-Control": "public, max-age=86400"},
        )

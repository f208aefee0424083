"""The API's documentation page (Swagger UI at ``/docs``), served wholly from this origin.

The product makes no outside requests, so the page's script, style and icon come from the ``fastapi-offline``
package's files (Swagger UI 5, which renders OpenAPI 3.1; the ``swagger-ui-bundle`` package carries Swagger UI 4,
which does not), mounted at ``/docs-assets``. The page has a CSP of its own: this origin only, plus the hash of
Swagger UI's one inline start-up script. There is no ``/redoc``: ReDoc's bundle always loads its maker's logo from
their CDN.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from api.jobs import csp_hashes

ASSETS_URL = "/docs-assets"
_ASSETS = Path(fastapi_offline.__file__).parent / "static"


def docs_csp(script_hashes: str) -> str:
    """Self-only: scripts from this origin and the page's hashed inline scripts."""
    return (
        f"default-src 'self'; script-src 'self' {script_hashes}".rstrip()
        + "; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )


def install_docs(app: FastAPI, openapi_url: str = "/openapi.json") -> None:
    """Mount the assets and add ``/docs`` (the app is made with ``docs_url=redoc_url=None``)."""
    app.mount(ASSETS_URL, StaticFiles(directory=_ASSETS), name="docs-assets")
    swagger = get_swagger_ui_html(
        openapi_url=openapi_url,
        title=f"{app.title} - Swagger UI",
        swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
        oauth2_redirect_url=None,
        swagger_ui_parameters=app.swagger_ui_parameters,
    ).body
    page = _page(bytes(swagger).decode("utf-8"))
    app.add_api_route("/docs", page, methods=["GET"], include_in_schema=False, response_class=HTMLResponse)


def _page(html: str) -> Callable[[], Awaitable[HTMLResponse]]:
    headers = {"content-security-policy": docs_csp(csp_hashes(html))}

    async def page() -> HTMLResponse:
        return HTMLResponse(html, headers=headers)

    return page

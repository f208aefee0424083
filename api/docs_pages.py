"""The API's documentation pages (Swagger UI at ``/docs``, ReDoc at ``/redoc``), served wholly from this origin.

The product makes no outside requests, so the pages' scripts, styles and icon come from the ``fastapi-offline``
package's files (Swagger UI 5, which renders OpenAPI 3.1, and ReDoc), mounted at ``/docs-assets``. Each page
has a CSP of its own: this origin only, plus the hash of Swagger UI's one inline start-up script.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from api.jobs import csp_hashes

ASSETS_URL = "/docs-assets"
_ASSETS = Path(fastapi_offline.__file__).parent / "static"


def docs_csp(script_hashes: str) -> str:
    """Self-only: scripts from this origin and the page's hashed inline scripts; blob: workers (ReDoc's search)."""
    return (
        f"default-src 'self'; script-src 'self' {script_hashes}".rstrip()
        + "; style-src 'self' 'unsafe-inline'; img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )


def install_docs(app: FastAPI, openapi_url: str = "/openapi.json") -> None:
    """Mount the assets and add ``/docs`` and ``/redoc`` (the app is made with ``docs_url=redoc_url=None``)."""
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
    redoc = get_redoc_html(
        openapi_url=openapi_url,
        title=f"{app.title} - ReDoc",
        redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
        redoc_favicon_url=f"{ASSETS_URL}/favicon.png",
        with_google_fonts=False,
    ).body
    pages = {"/docs": bytes(swagger).decode("utf-8"), "/redoc": bytes(redoc).decode("utf-8")}

    for path, html in pages.items():
        app.add_api_route(path, _page(html), methods=["GET"], include_in_schema=False, response_class=HTMLResponse)


def _page(html: str) -> Callable[[], Awaitable[HTMLResponse]]:
    headers = {"content-security-policy": docs_csp(csp_hashes(html))}

    async def page() -> HTMLResponse:
        return HTMLResponse(html, headers=headers)

    return page

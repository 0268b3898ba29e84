"""The coordinator page: static files (HTML, CSS, JavaScript modules; no build step, nothing from a CDN)
served by scheduling at ``/coordinator/``, and where the page finds the other services.

The page holds no data itself: it logs in at the registry and calls the three APIs with the
coordinator's token. Its responses forbid framing, inline scripts and any other origin than the
services it calls (Content-Security-Policy).
"""

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import Scope

PAGE = Path(__file__).resolve().parent.parent / "coordinator"
PREFIX = "/coordinator"


def mount(app: FastAPI, *, registry_url: str, notifications_url: str) -> None:
    """Serve the page on ``app`` (after its API routes)."""
    others = " ".join(sorted({_origin(registry_url), _origin(notifications_url)}))
    headers = {
        "Content-Security-Policy": (
            f"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"connect-src 'self' {others}; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",  # a new release is seen at once; ETags keep it cheap
    }

    @app.get(PREFIX, include_in_schema=False)
    async def to_page() -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/", headers=headers)

    @app.get(f"{PREFIX}/config.json", include_in_schema=False)
    async def config() -> JSONResponse:
        urls = {"registry_url": registry_url, "notifications_url": notifications_url}
        return JSONResponse({name: url.rstrip("/") for name, url in urls.items()}, headers=headers)

    app.mount(PREFIX, _Page(headers, directory=PAGE, html=True), name="coordinator")


class _Page(StaticFiles):
    """The page's files, each answer with the page's headers (the API's answers do without them)."""

    def __init__(self, headers: dict[str, str], **options: Any) -> None:
        super().__init__(**options)
        self.headers = headers

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(self.headers)
        return response


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"

"""The coordinator page: static files (HTML, CSS, JavaScript modules; no build step, nothing from a CDN)
served by scheduling at ``/coordinator/``, and where the page finds the other services.

The page holds no data itself: it logs in at the registry and calls the three APIs with the
coordinator's token. Its responses forbid framing, inline scripts and any other origin than the
services it calls (Content-Security-Policy).
"""

from pathlib import Path
from urllib.parse import urlsplit

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

PAGE = Path(__file__).resolve().parent.parent / "coordinator"
PREFIX = "/coordinator"


def mount(app: FastAPI, *, registry_url: str, notifications_url: str) -> None:
    """Serve the page on ``app`` (after its API routes)."""
    others = " ".join(sorted({_origin(registry_url), _origin(notifications_url)}))
    policy = (
        f"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self' {others}; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )

    @app.get(PREFIX, include_in_schema=False)
    async def to_page() -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/")

    @app.get(f"{PREFIX}/config.json", include_in_schema=False)
    async def config() -> JSONResponse:
        urls = {"registry_url": registry_url, "notifications_url": notifications_url}
        return JSONResponse({name: url.rstrip("/") for name, url in urls.items()})

    app.mount(PREFIX, StaticFiles(directory=PAGE, html=True), name="coordinator")
    app.add_middleware(_PageHeaders, policy=policy)


class _PageHeaders(BaseHTTPMiddleware):
    def __init__(self, app: object, policy: str) -> None:
        super().__init__(app)  # type: ignore[arg-type]
        self.policy = policy

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        if request.url.path.startswith(PREFIX):
            response.headers["Content-Security-Policy"] = self.policy
            response.headers["X-Content-Type-Options"] = "nosniff"
            response.headers["Referrer-Policy"] = "no-referrer"
            response.headers["Cache-Control"] = "no-cache"  # a new release is seen at once; ETags keep it cheap
        return response


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"

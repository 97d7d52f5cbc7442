"""Headers and access control every response of the explorer gets.

Why a strict default: run names, parameters, errors and logs are user-controlled text, and the UI
may be reachable from a browser that also holds cloud consoles. Every page carries a CSP that runs
only our own inline script (a per-response nonce), allows no plugins, no framing by others and no
form posts. Loopback binds are open (the machine's user is the reader); any other bind requires a
token, sent once as `?token=` and then kept in an HttpOnly, SameSite=Strict cookie.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from urllib.parse import urlencode

from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

TOKEN_COOKIE = "conveyor_ui_token"

# For sandboxed previews (HTML artifacts, raw files, logs): no script, no network, no same origin.
SANDBOX_CSP = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'self'"


def page_csp(nonce: str) -> str:
    return (f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; style-src-attr 'unsafe-inline'; img-src 'self' data:; "
            "frame-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class BindError(ValueError):
    """Refusing to serve on a non-loopback address without a token."""


def check_bind(host: str, token: str | None) -> None:
    if not is_loopback(host) and not token:
        raise BindError(f"--host {host} is not a loopback address: pass --token (or set CONVEYOR_UI_TOKEN) so "
                        "only holders of the token can read runs; loopback binds (127.0.0.1, ::1) need none")
    if token is not None and len(token) < 16:
        raise BindError("--token must be at least 16 characters (e.g. `python -c 'import secrets; "
                        "print(secrets.token_urlsafe())'`)")


class Guard(BaseHTTPMiddleware):
    def __init__(self, app, token: str | None = None):
        super().__init__(app)
        self.token = token

    async def dispatch(self, request: Request, call_next) -> Response:
        if request.method not in ("GET", "HEAD"):
            return PlainTextResponse("read-only: only GET and HEAD are served", status_code=405)
        if self.token is not None:
            offered = request.query_params.get("token")
            if offered is not None and hmac.compare_digest(offered, self.token):
                rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
                response = RedirectResponse(request.url.path + ("?" + urlencode(rest) if rest else ""), 303)
                response.set_cookie(TOKEN_COOKIE, self.token, httponly=True, samesite="strict")
                return response
            cookie = request.cookies.get(TOKEN_COOKIE, "")
            if not hmac.compare_digest(cookie, self.token):
                return PlainTextResponse("a token is required: open the URL printed by `conveyor ui`",
                                         status_code=401)
        request.state.nonce = secrets.token_urlsafe(16)
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", page_csp(request.state.nonce))
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Cache-Control", "no-store")
        return response

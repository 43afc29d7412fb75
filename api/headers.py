"""Security headers on every response, the API's and the review page's alike.

``install(app)`` adds :class:`SecurityHeaders`, a pure ASGI middleware: it adds each header of
:data:`HEADERS` that the route did not set itself. The content security policy allows scripts,
styles, fonts and requests from this site only, and no framing; a route that serves a
self-contained page with an inline ``<style>`` (the printable meeting pack) sets its own policy
with :func:`policy_for_inline_styles`.

``Referrer-Policy`` is ``same-origin``, not ``no-referrer``: with ``no-referrer`` a browser sends
``Origin: null`` on form posts, and the page's forms are checked by their origin
(:func:`api.web_sessions.same_origin`).
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: The content security policy's directives; ``style-src`` gains hashes for inline styles.
POLICY: dict[str, str] = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def content_security_policy(style_hashes: tuple[str, ...] = ()) -> str:
    """The policy as a header value, allowing inline styles whose ``sha256-...`` is given."""
    directives = dict(POLICY)
    if style_hashes:
        directives["style-src"] += "".join(f" '{h}'" for h in style_hashes)
    return "; ".join(f"{name} {value}" for name, value in directives.items())


#: Headers every response carries unless its route set them.
HEADERS: dict[str, str] = {
    "Content-Security-Policy": content_security_policy(),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}

_STYLE = re.compile(r"<style[^>]*>(.*?)</style>", re.DOTALL | re.IGNORECASE)


def policy_for_inline_styles(html: str) -> str:
    """The policy for ``html``, allowing exactly its inline ``<style>`` blocks by hash."""
    hashes = tuple(
        "sha256-" + base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()
        for block in _STYLE.findall(html)
    )
    return content_security_policy(hashes)


class SecurityHeaders:
    """Adds :data:`HEADERS` to every HTTP response that does not carry them already."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, with_headers)


def install(app: FastAPI) -> None:
    """Add :class:`SecurityHeaders` to ``app`` (call it last, so it wraps every middleware)."""
    app.add_middleware(SecurityHeaders)

"""Who may use the dashboard: whoever opened the address `filetrail ui` printed.

Loopback is shared by every user of the machine, and the dashboard reads and reprocesses
with the operator's credentials. As notebook servers do, the printed address carries a
random token; the first request with it gets the token back as an HttpOnly, SameSite=Strict
cookie (and a redirect that drops it from the address bar), and every request after must
carry that cookie.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlencode, urlparse

from flask import Flask, abort, redirect, request
from werkzeug.wrappers.response import Response as BaseResponse

PARAMETER = "token"
REFUSED = (
    "this dashboard needs its access token: open the address `filetrail ui` printed "
    "(it ends in ?token=...)"
)


def cookie_name() -> str:
    """One cookie per port: browsers share cookies between the ports of one host."""
    port = urlparse(f"//{request.host}").port
    return f"filetrail_ui_{port}" if port else "filetrail_ui"


def _matches(offered: str | None, token: str) -> bool:
    return offered is not None and hmac.compare_digest(offered.encode(), token.encode())


def require_token(app: Flask, token: str) -> None:
    @app.before_request
    def authorized() -> BaseResponse | None:
        offered = request.args.get(PARAMETER)
        if offered is not None:
            if not _matches(offered, token):
                abort(403, REFUSED)
            rest = {k: v for k, v in request.args.lists() if k != PARAMETER}
            target = request.path + (f"?{urlencode(rest, doseq=True)}" if rest else "")
            response = redirect(target, code=303)
            response.set_cookie(cookie_name(), token, httponly=True, samesite="Strict", path="/")
            return response
        if not _matches(request.cookies.get(cookie_name()), token):
            abort(403, REFUSED)
        return None

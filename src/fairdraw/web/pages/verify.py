"""``/verify``: a second, independent verifier that runs in the visitor's browser.

The page's scripts (``static/verify``) implement the checks of ``fairdraw verify`` in
JavaScript, with BLS12-381 from the vendored ``@noble/curves``. That library imports
``@noble/hashes`` by bare specifiers, which only an import map resolves; the map is an
inline script, so this page's Content-Security-Policy allows exactly that script, by its
hash, and nothing else inline.
"""

from __future__ import annotations

import base64
import hashlib
import json

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fairdraw.web import security
from fairdraw.web.deps import ServicesDep, VisitorDep
from fairdraw.web.pages.rendering import render

router = APIRouter()


def import_map(request: Request) -> str:
    """The page's import map: ``@noble/hashes/…`` resolved to the vendored copy."""
    hashes = request.url_for("static", path="vendor/noble-hashes/").path
    return json.dumps({"imports": {"@noble/hashes/": hashes}}, separators=(",", ":"))


def content_security_policy(inline_script: str) -> str:
    """The site's policy, with ``inline_script`` (and only it) allowed by its SHA-256."""
    digest = base64.b64encode(hashlib.sha256(inline_script.encode()).digest()).decode()
    return security.CONTENT_SECURITY_POLICY.replace(
        "script-src 'self'", f"script-src 'self' 'sha256-{digest}'"
    )


@router.get("/verify")
async def verify_page(request: Request, services: ServicesDep, visitor: VisitorDep) -> Response:
    """The verifier; ``?bundle=URL&entries=URL`` (this site's URLs) verifies at once."""
    mapping = import_map(request)
    response = render(request, services, visitor, "verify.html", {"import_map": mapping})
    response.headers["Content-Security-Policy"] = content_security_policy(mapping)
    return response

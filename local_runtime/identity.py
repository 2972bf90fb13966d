"""The factory's managed identity, locally: a bearer token that names its audience and the factory.

Azure issues signed JWTs; the local stand-ins only need to check the audience a caller asked for, so the
token is an unsigned JWT (alg none) that no Azure service would accept."""
from __future__ import annotations

import base64
import json


def _b64(obj: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode().rstrip("=")


def managed_identity_token(factory: str, resource: str) -> str:
    return ".".join([_b64({"alg": "none", "typ": "JWT"}), _b64({"aud": resource, "sub": f"adf:{factory}"}), ""])


def token_audience(authorization: str | None) -> str | None:
    """The `aud` claim of a `Bearer` header, or None when absent or malformed."""
    if not authorization or not authorization.startswith("Bearer "):
        return None
    try:
        payload = authorization.split(" ", 1)[1].split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["aud"]
    except (IndexError, ValueError, KeyError):
        return None

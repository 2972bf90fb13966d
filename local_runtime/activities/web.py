"""WebActivity: a real HTTP call; MSI authentication gets the factory's (local) managed-identity token."""
from __future__ import annotations

import json
from typing import Any

import requests

from local_runtime.activities.registry import register
from local_runtime.errors import ActivityError
from local_runtime.identity import managed_identity_token
from local_runtime.timespan import parse_timespan


@register("WebActivity")
def web_activity(activity: dict, props: dict, rc) -> Any:
    method = str(props.get("method", "GET")).upper()
    headers = {str(k): str(v) for k, v in (props.get("headers") or {}).items()}
    auth = props.get("authentication") or {}
    if auth.get("type") == "MSI":
        headers["Authorization"] = "Bearer " + managed_identity_token(rc.factory, auth.get("resource", ""))
    elif auth:
        raise ActivityError(f"authentication type {auth.get('type')!r} is not supported locally; use MSI",
                            "UnsupportedAuthentication")
    body = props.get("body")
    data = None
    if method in ("POST", "PUT", "PATCH") and body is not None:
        data = body if isinstance(body, str) else json.dumps(body)
    timeout = parse_timespan(props.get("httpRequestTimeout", "00:01:00"))
    try:
        response = requests.request(method, props["url"], headers=headers, data=data, timeout=timeout)
    except requests.RequestException as exc:
        raise ActivityError(f"{method} {props['url']} failed: {exc}", "WebActivityRequestFailed") from exc
    if response.status_code >= 400:
        raise ActivityError(f"{method} {props['url']} returned {response.status_code}: {response.text[:500]}",
                            str(response.status_code))
    try:
        output = response.json()
    except ValueError:
        output = {"Response": response.text}
    if not isinstance(output, dict):
        output = {"Response": output}
    output["ADFWebActivityResponseHeaders"] = dict(response.headers)
    return output

"""The VK API as IMP calls it: methods with a community token, and VK's upload servers."""

from __future__ import annotations

from typing import Any

import httpx

API_VERSION = "5.199"

# Error codes of the VK API (https://dev.vk.com/ru/reference/errors) that IMP acts on.
UNKNOWN_ERROR = 1
AUTHORIZATION_FAILED = 5
TOO_MANY_REQUESTS = 6
NO_PERMISSION = 7
FLOOD_CONTROL = 9
INTERNAL_ERROR = 10
ACCESS_DENIED = 15
GROUP_AUTHORIZATION_FAILED = 27
APPLICATION_AUTHORIZATION_FAILED = 28
# The user has not allowed messages from the community, or blocked it, or hides from it.
USER_BLOCKED = 900
NO_PERMISSION_TO_WRITE = 901
PRIVACY_SETTINGS = 902

# The refusals that say the token itself is wrong (revoked, mistyped, another app's).
TOKEN_REFUSALS = {
    AUTHORIZATION_FAILED,
    GROUP_AUTHORIZATION_FAILED,
    APPLICATION_AUTHORIZATION_FAILED,
}
# The refusals that pass: VK asks to slow down, or failed on its side.
PASSING_REFUSALS = {UNKNOWN_ERROR, TOO_MANY_REQUESTS, FLOOD_CONTROL, INTERNAL_ERROR}


class VkError(Exception):
    """VK refused a call: its error code and message."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"VK error {code}: {message}")
        self.code = code
        self.message = message


class VkApi:
    def __init__(self, http: httpx.AsyncClient, base_url: str, token: str) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.token = token

    async def call(self, method: str, **params: Any) -> Any:
        """Call a method; its ``response``, or ``VkError``. Network failures and VK's own
        5xx are ``httpx.HTTPError``."""
        data = {k: str(v) for k, v in params.items() if v is not None}
        data["v"] = API_VERSION
        response = await self.http.post(
            f"{self.base_url}/method/{method}",
            data=data,
            headers={"Authorization": f"Bearer {self.token}"},
        )
        response.raise_for_status()
        try:
            body = response.json()
        except ValueError as exc:
            raise httpx.DecodingError(f"VK answered {method} with no JSON") from exc
        if not isinstance(body, dict):
            raise httpx.DecodingError(f"VK answered {method} with {type(body).__name__}")
        error = body.get("error")
        if isinstance(error, dict):
            raise VkError(int(error.get("error_code") or 0), str(error.get("error_msg") or ""))
        return body.get("response")

    async def upload(
        self, url: str, field: str, file_name: str, data: bytes, content_type: str
    ) -> dict[str, Any]:
        """A file posted to one of VK's upload servers; what it answers, to be saved next."""
        response = await self.http.post(
            url, files={field: (file_name, data, content_type)}, timeout=120
        )
        response.raise_for_status()
        body = response.json()
        if not isinstance(body, dict):
            raise httpx.DecodingError("VK's upload server answered with no object")
        if body.get("error"):
            raise VkError(0, f"upload refused: {body.get('error')}")
        return body

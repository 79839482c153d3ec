"""The WhatsApp Cloud API as IMP calls it: Meta's Graph API with a business's access token."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import httpx

GRAPH_VERSION = "v21.0"

# Error codes of the Graph and Cloud APIs
# (https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes) IMP acts on.
INVALID_PARAMETER = 100
ACCESS_TOKEN_EXPIRED = 190
# Slow down: the app's, the business account's or the number's throughput; one user's pair.
PACING = {4: 60.0, 80007: 60.0, 130429: 2.0, 131056: 6.0}
# WhatsApp failed on its side.
PASSING = {1, 2, 131000, 131016}
# More than 24 hours since the user's last message: only a template may be sent.
REENGAGEMENT = 131047


class GraphError(Exception):
    """The Graph API refused a call: its HTTP status, error code and message."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(f"WhatsApp error {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def app_secret_proof(token: str, app_secret: str) -> str:
    """The HMAC of the token with the app secret that Meta checks when given: a token taken
    away from IMP's servers is no use without the secret."""
    return hmac.new(app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()


def signature(body: bytes, app_secret: str) -> str:
    """X-Hub-Signature-256 of a webhook body."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


class GraphApi:
    def __init__(self, http: httpx.AsyncClient, base_url: str, token: str, app_secret: str) -> None:
        self.http = http
        self.base_url = f"{base_url.rstrip('/')}/{GRAPH_VERSION}"
        self.token = token
        self.proof = app_secret_proof(token, app_secret)

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @staticmethod
    def _answer(response: httpx.Response) -> Any:
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.is_success and isinstance(body, dict):
            return body
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            raise GraphError(
                response.status_code, int(error.get("code") or 0), str(error.get("message") or "")
            )
        # No Graph answer at all (a proxy's 502, say): the network's fault, not the call's.
        response.raise_for_status()
        raise httpx.DecodingError(f"the Graph API answered {response.status_code} with no JSON")

    async def get(self, path: str, **params: Any) -> Any:
        response = await self.http.get(
            f"{self.base_url}/{path}",
            params={**params, "appsecret_proof": self.proof},
            headers=self._headers(),
        )
        return self._answer(response)

    async def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        response = await self.http.post(
            f"{self.base_url}/{path}",
            params={"appsecret_proof": self.proof},
            json=body or {},
            headers=self._headers(),
        )
        return self._answer(response)

    async def upload(self, phone_number_id: str, name: str, data: bytes, content_type: str) -> str:
        """A file put on WhatsApp for a message to refer to: its media id."""
        response = await self.http.post(
            f"{self.base_url}/{phone_number_id}/media",
            params={"appsecret_proof": self.proof},
            data={"messaging_product": "whatsapp", "type": content_type},
            files={"file": (name, data, content_type)},
            headers=self._headers(),
            timeout=120,
        )
        return str(self._answer(response)["id"])

    async def media_url(self, media_id: str) -> dict[str, Any]:
        """Where a client's file can be fetched (for a few minutes), with its type and size."""
        found: dict[str, Any] = await self.get(media_id)
        return found

    def download(self, url: str) -> Any:
        """The stream of a file at a media URL; the token is needed there too."""
        return self.http.stream("GET", url, headers=self._headers(), timeout=120)

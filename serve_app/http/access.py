"""AccessPolicy: who may create, delete and ask, and who may read."""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Denied:
    status_code: int
    message: str


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class AccessPolicy:
    """Bearer-token checks.

    ``token`` guards writes (create, delete, ask) and, with ``protect_reads``, reads too.
    When the operator set no token, one is generated at start and printed in the log;
    clients on loopback then need none, so a local `make run` just works while the same
    service reachable from a network is not open to it.
    """

    def __init__(self, token: str, token_was_generated: bool, protect_reads: bool) -> None:
        if not token:
            raise ValueError("a token is required (generate one when unset)")
        self._token = token
        self.token_was_generated = token_was_generated
        self.protect_reads = protect_reads

    def check(
        self, write: bool, client_host: str | None, authorization: str | None
    ) -> Denied | None:
        if not write and not self.protect_reads:
            return None
        if self.token_was_generated and is_loopback(client_host):
            return None
        scheme, _, presented = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not presented:
            return Denied(401, "this needs 'Authorization: Bearer <token>' (API_TOKEN)")
        if not hmac.compare_digest(presented.encode(), self._token.encode()):
            return Denied(403, "the bearer token is not valid")
        return None

"""A local HTTPS fake of Microsoft Graph's users, full listing and delta, for directory syncs.

The test owns the directory (``users``) and changes it through methods that also append to a
change log, which delta rounds replay: every change is one entry (so a user changed twice
appears twice, as Graph may do), removals as `@removed` entries. Faults are queued answers
(429 with a Retry-After, 503, …) served before the next real ones; delta tokens older than
``expired_before`` get 410 Gone; ``foreign_host`` puts another host into next links.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
import uuid
from collections import deque
from typing import Any
from urllib.parse import parse_qs

import trustme
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

SELECT = (
    "id,userPrincipalName,mail,displayName,givenName,surname,accountEnabled,employeeId,department"
)
DOMAIN = "contoso.example"


def object_id(n: int | str) -> str:
    """A stable Entra object id for user ``n``."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"fake-graph-user:{n}"))


def graph_user(n: int | str, **props: Any) -> dict[str, Any]:
    """A Graph user as `$select` returns it."""
    user = {
        "id": object_id(n),
        "userPrincipalName": f"user{n}@{DOMAIN}",
        "mail": f"user{n}@{DOMAIN}",
        "displayName": f"User {n}",
        "givenName": "User",
        "surname": str(n),
        "accountEnabled": True,
        "employeeId": f"E{n}",
        "department": "Sales",
    }
    return user | props


class FakeGraph:
    def __init__(self, ca: trustme.CA | None = None) -> None:
        self.ca = ca or trustme.CA()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        self.server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with getattr(self, "_lock", threading.Lock()):
            self.users: dict[str, dict[str, Any]] = {}
            self.log: list[dict[str, Any]] = []
            # A fixed page size (None: honour $top, as Graph does up to 999).
            self.page_size: int | None = None
            self.page_delay = 0.0
            # (path or None for any, status, headers, body), served before real answers.
            self.faults: deque[tuple[str | None, int, dict[str, str], dict[str, Any]]] = deque()
            self.expired_before = 0
            self.expiry_status = 410
            self.foreign_host: str | None = None
            self.latest_supported = True
            self.requests: list[tuple[float, str, dict[str, str], str]] = []

    def start(self) -> None:
        self.server.expect_request("/v1.0/users").respond_with_handler(self._users)
        self.server.expect_request("/v1.0/users/delta").respond_with_handler(self._delta)
        self.server.start()

    def stop(self) -> None:
        self.server.clear()
        if self.server.is_running():
            self.server.stop()

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.server.port}"

    # The directory, as the test changes it.

    def add(self, *users: dict[str, Any]) -> None:
        with self._lock:
            for user in users:
                self.users[user["id"]] = dict(user)
                self.log.append(dict(user))

    def add_range(self, start: int, stop: int, **props: Any) -> list[str]:
        """Users start..stop-1, in one go (without change log entries: a directory as found)."""
        with self._lock:
            for n in range(start, stop):
                user = graph_user(n, **props)
                self.users[user["id"]] = user
        return [object_id(n) for n in range(start, stop)]

    def update(self, oid: str, *, partial: bool = False, **props: Any) -> None:
        """Change a user; a delta entry states every property, or only these (``partial``)."""
        with self._lock:
            self.users[oid].update(props)
            self.log.append({"id": oid, **props} if partial else dict(self.users[oid]))

    def remove(self, oid: str, reason: str = "deleted") -> None:
        """`changed`: soft-deleted in Entra (restorable); `deleted`: gone for good."""
        with self._lock:
            self.users.pop(oid, None)
            self.log.append({"id": oid, "@removed": {"reason": reason}})

    def throttle(
        self,
        times: int = 1,
        retry_after: str | None = "0.3",
        status: int = 429,
        path: str | None = "/v1.0/users",
    ) -> None:
        headers = {} if retry_after is None else {"Retry-After": retry_after}
        body = {"error": {"code": "TooManyRequests", "message": "Too many requests"}}
        for _ in range(times):
            self.faults.append((path, status, headers, body))

    def fail(self, status: int, code: str, path: str | None = "/v1.0/users") -> None:
        self.faults.append((path, status, {}, {"error": {"code": code, "message": code}}))

    def expire_delta_tokens(self, *, status: int = 410) -> None:
        """Every delta token issued so far is expired (410, or 400 with resyncRequired)."""
        self.expired_before = len(self.log) + 1
        self.expiry_status = status

    def paths(self) -> list[str]:
        return [path for _, path, _, _ in self.requests]

    # Serving.

    def _link(self, path: str, **query: Any) -> str:
        host = self.foreign_host or f"127.0.0.1:{self.server.port}"
        rest = "&".join(f"${name}={value}" for name, value in query.items())
        return f"https://{host}{path}?$select={SELECT}&{rest}"

    def _answer(self, request: Request) -> tuple[Response | None, dict[str, str]]:
        query = {k.lstrip("$"): v[0] for k, v in parse_qs(request.query_string.decode()).items()}
        authorization = request.headers.get("Authorization", "")
        self.requests.append((time.monotonic(), request.path, query, authorization))
        if not authorization.startswith("Bearer fake."):
            return _json(401, {"error": {"code": "InvalidAuthenticationToken"}}), query
        if self.faults and self.faults[0][0] in (None, request.path):
            _path, status, headers, body = self.faults.popleft()
            return _json(status, body, headers), query
        if self.page_delay:
            time.sleep(self.page_delay)
        return None, query

    def _page_size(self, query: dict[str, str]) -> int:
        return self.page_size or min(int(query.get("top", 100)), 999)

    def _users(self, request: Request) -> Response:
        fault, query = self._answer(request)
        if fault is not None:
            return fault
        with self._lock:
            ordered = sorted(self.users)
            skip = int(query.get("skiptoken", 0))
            size = self._page_size(query)
            chunk = [self.users[oid] for oid in ordered[skip : skip + size]]
            body: dict[str, Any] = {"value": chunk}
            if skip + size < len(ordered):
                body["@odata.nextLink"] = self._link(
                    "/v1.0/users", top=query.get("top", size), skiptoken=skip + size
                )
        return _json(200, body)

    def _delta(self, request: Request) -> Response:
        fault, query = self._answer(request)
        if fault is not None:
            return fault
        token = query.get("deltatoken")
        with self._lock:
            if token == "latest":
                if not self.latest_supported:
                    return _json(400, {"error": {"code": "BadRequest"}})
                return _json(
                    200,
                    {
                        "value": [],
                        "@odata.deltaLink": self._link(
                            "/v1.0/users/delta", deltatoken=len(self.log)
                        ),
                    },
                )
            since = int(token) if token is not None else None
            if since is not None and since < self.expired_before:
                code = "syncStateNotFound" if self.expiry_status == 410 else "resyncRequired"
                return _json(self.expiry_status, {"error": {"code": code, "message": "expired"}})
            # No token: the first round lists every user (as Graph's initial delta does).
            entries = list(self.users.values()) if since is None else self.log[since:]
            skip = int(query.get("skiptoken", 0))
            size = self.page_size or 100
            body: dict[str, Any] = {"value": entries[skip : skip + size]}
            if skip + size < len(entries):
                more = {"deltatoken": token} if token is not None else {}
                body["@odata.nextLink"] = self._link(
                    "/v1.0/users/delta", **more, skiptoken=skip + size
                )
            else:
                body["@odata.deltaLink"] = self._link("/v1.0/users/delta", deltatoken=len(self.log))
        return _json(200, body)


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body), status=status, headers=headers, content_type="application/json"
    )

"""`EmulatorControl`: a small typed client for the `/_emulator/` control API, for tests and demos.

control = EmulatorControl(server.base_url, verify=str(server.ca_path))
control.add_fault("throttled", next_requests=3, mailbox="ada@contoso.com", retry_after_seconds=2)
...
control.reset()
"""

from __future__ import annotations

import ssl
from types import TracebackType
from typing import Any

import httpx


class EmulatorControlError(Exception):
    """The control API refused a call; `code` is the machine-readable error code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class EmulatorControl:
    """Calls the emulator's control API over HTTP(S).

    `verify` is a bool, an SSL context, or the path of a CA PEM (the emulator server's `ca_path`).
    """

    def __init__(
        self,
        base_url: str,
        verify: bool | str | ssl.SSLContext = True,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
    ) -> None:
        if isinstance(verify, str):
            verify = ssl.create_default_context(cafile=verify)
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + "/_emulator",
            verify=verify,
            transport=transport,
            timeout=timeout,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> EmulatorControl:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self._http.request(method, path, json=body)
        if response.status_code >= 400:
            try:
                error = response.json()["error"]
                code, message = str(error["code"]), str(error["message"])
            except (ValueError, KeyError, TypeError):
                code, message = "unknown", response.text
            raise EmulatorControlError(response.status_code, code, message)
        return response.json() if response.content else None

    # -- mailboxes ------------------------------------------------------------------------

    def add_mailbox(
        self, address: str, display_name: str | None = None, can_host_teams: bool = True
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"address": address, "canHostTeams": can_host_teams}
        if display_name is not None:
            body["displayName"] = display_name
        result: dict[str, Any] = self._call("POST", "/mailboxes", body)
        return result

    def mailboxes(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "/mailboxes")["value"]
        return result

    def set_can_host_teams(self, mailbox: str, allowed: bool) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "PATCH", f"/mailboxes/{mailbox}", {"canHostTeams": allowed}
        )
        return result

    # -- faults ---------------------------------------------------------------------------

    def add_fault(
        self,
        kind: str,
        *,
        rate: float | None = None,
        next_requests: int | None = None,
        mailbox: str | None = None,
        method: str | None = None,
        path_pattern: str | None = None,
        delay_seconds: float | None = None,
        retry_after_seconds: int | None = None,
    ) -> dict[str, Any]:
        """Add a rule (`kind`: throttled, unavailable, gateway_timeout, slow, drop,
        apply_then_drop); give `rate` or `next_requests`. Returns the rule with its id."""
        fields = {
            "kind": kind,
            "rate": rate,
            "nextRequests": next_requests,
            "mailbox": mailbox,
            "method": method,
            "pathPattern": path_pattern,
            "delaySeconds": delay_seconds,
            "retryAfterSeconds": retry_after_seconds,
        }
        result: dict[str, Any] = self._call(
            "POST", "/faults", {k: v for k, v in fields.items() if v is not None}
        )
        return result

    def faults(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "/faults")["value"]
        return result

    def remove_fault(self, rule_id: str) -> None:
        self._call("DELETE", f"/faults/{rule_id}")

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def seed_faults(self, seed: int) -> None:
        self._call("PUT", "/faults/seed", {"seed": seed})

    # -- throttling, tokens ---------------------------------------------------------------

    def throttling(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/throttling")
        return result

    def set_throttling(
        self,
        *,
        requests_per_window: int | None = None,
        window_seconds: float | None = None,
        max_concurrent: int | None = None,
        enabled: bool | None = None,
    ) -> dict[str, Any]:
        fields = {
            "requestsPerWindow": requests_per_window,
            "windowSeconds": window_seconds,
            "maxConcurrent": max_concurrent,
            "enabled": enabled,
        }
        result: dict[str, Any] = self._call(
            "PUT", "/throttling", {k: v for k, v in fields.items() if v is not None}
        )
        return result

    def expire_delta_tokens(self, mailbox: str | None = None) -> None:
        self._call("POST", "/delta-tokens/expire", {} if mailbox is None else {"mailbox": mailbox})

    def expire_access_tokens(self) -> None:
        self._call("POST", "/access-tokens/expire")

    # -- subscriptions and webhooks -------------------------------------------------------

    def subscriptions(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "/subscriptions")["value"]
        return result

    def send_lifecycle_event(self, subscription_id: str, lifecycle_event: str) -> None:
        """`missed`, `subscriptionRemoved` or `reauthorizationRequired`."""
        self._call(
            "POST",
            f"/subscriptions/{subscription_id}/lifecycle",
            {"lifecycleEvent": lifecycle_event},
        )

    def set_webhook_policy(self, **fields: Any) -> dict[str, Any]:
        """camelCase fields: attemptTimeoutSeconds, retryForSeconds, firstRetryDelaySeconds,
        maxRetryDelaySeconds, verifyTls, validationTimeoutSeconds."""
        result: dict[str, Any] = self._call("PUT", "/webhooks", fields)
        return result

    def deliveries(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "/webhooks/deliveries")["value"]
        return result

    # -- delta quirks ---------------------------------------------------------------------

    def delta_quirks(self, mailbox: str | None = None) -> dict[str, Any]:
        """Effective `emptyFirstPage`/`duplicateItems` (and the overrides), of one mailbox or
        of the emulator as a whole (with `mailboxes`: every mailbox override)."""
        path = "/delta-quirks" if mailbox is None else f"/delta-quirks/{mailbox}"
        result: dict[str, Any] = self._call("GET", path)
        return result

    def set_delta_quirks(
        self,
        *,
        empty_first_page: bool | None = None,
        duplicate_items: bool | None = None,
        mailbox: str | None = None,
    ) -> dict[str, Any]:
        """Switch delta's optional oddities on or off for every mailbox, or for `mailbox` only;
        a quirk left as None keeps its current setting."""
        fields = {"emptyFirstPage": empty_first_page, "duplicateItems": duplicate_items}
        path = "/delta-quirks" if mailbox is None else f"/delta-quirks/{mailbox}"
        result: dict[str, Any] = self._call(
            "PUT", path, {k: v for k, v in fields.items() if v is not None}
        )
        return result

    def clear_delta_quirks(self, mailbox: str | None = None) -> None:
        """Drop the overrides of one mailbox (or all overrides): the configuration rules again."""
        self._call("DELETE", "/delta-quirks" if mailbox is None else f"/delta-quirks/{mailbox}")

    # -- counts and reset -----------------------------------------------------------------

    def request_counts(self) -> dict[str, Any]:
        """`{"total": n, "mailboxes": {address: n}}` since the last reset."""
        result: dict[str, Any] = self._call("GET", "/requests")
        return result

    def clear_request_counts(self) -> None:
        self._call("DELETE", "/requests")

    def reset(self) -> None:
        """No events, faults, subscriptions, counts or delta-quirk overrides; limits from the
        config; mailboxes stay."""
        self._call("POST", "/reset")

"""Guest checkout limits: how many purchases a publishable key may start per address and e-mail."""

from __future__ import annotations

from dataclasses import dataclass

from payments.domain.customer import email_limit_key
from payments.domain.errors import RateLimitedError
from payments.domain.ports import RateLimiter

HOUR = 3600


@dataclass(frozen=True, slots=True)
class GuestCheckoutLimits:
    """At most ``per_ip`` purchases per client address in ``per_ip_window`` seconds, and
    ``per_email`` per buyer e-mail in ``per_email_window`` seconds."""

    per_ip: int = 10
    per_ip_window: int = HOUR
    per_email: int = 5
    per_email_window: int = HOUR


class GuestCheckoutGate:
    """Counts guest checkouts on the rate-limit port and refuses those over a limit.

    Only publishable keys (guests) are counted; server keys are never limited.
    """

    def __init__(self, limiter: RateLimiter, limits: GuestCheckoutLimits) -> None:
        self._limiter = limiter
        self._limits = limits

    def admit(self, client_address: str | None, email: str | None) -> None:
        """Count one checkout by this address and e-mail; ``RateLimitedError`` over a limit.

        The e-mail is checked first (``ValidationError`` naming ``customer.email``, nothing
        counted) and counts by ``customer.email_limit_key``: case, Unicode width, sub-address,
        the domain's trailing dot and Gmail's dots make no new bucket. The address is counted
        next, so a guest over its address limit is refused whatever e-mail it sends.
        """
        limits = self._limits
        key = email_limit_key(email) if email is not None else None
        self._hit(f"ip:{client_address or 'unknown'}", limits.per_ip, limits.per_ip_window)
        if key is not None:
            self._hit(f"email:{key}", limits.per_email, limits.per_email_window)

    def _hit(self, key: str, limit: int, window: int) -> None:
        decision = self._limiter.hit(f"purchases:{key}", limit, window)
        if not decision.allowed:
            raise RateLimitedError(
                "Too many purchases were started; try again later.",
                retry_after=decision.retry_after,
            )

"""Plain hex digests of a provider's signature string, and their constant-time comparison."""

from __future__ import annotations

import hashlib
import hmac
from typing import Final

__all__ = ["DIGEST_ALGORITHMS", "hex_digest", "same_hex_digest"]

DIGEST_ALGORITHMS: Final = frozenset({"md5", "sha1", "sha256"})
"""The hashlib names a provider's unkeyed signature may use (PayU: MD5, SHA1, SHA256; Wompi:
SHA256). MD5 and SHA1 are weak, but they are what the providers document and send."""


def hex_digest(algorithm: str, text: str) -> str:
    """Lower-case hex digest of the UTF-8 bytes of ``text`` with ``algorithm`` (a hashlib name
    among ``DIGEST_ALGORITHMS``); ``ValueError`` for any other name."""
    if algorithm not in DIGEST_ALGORITHMS:
        raise ValueError(f"{algorithm!r} is not a provider digest algorithm.")
    # MD5 and SHA1 are the providers' own documented signature algorithms, not our choice.
    return hashlib.new(algorithm, text.encode("utf-8")).hexdigest()


def same_hex_digest(expected: str, candidate: str | None) -> bool:
    """Whether ``candidate`` is the hex digest ``expected``, in any letter case (the providers
    print upper-case hex), compared in constant time; spaces around the candidate are ignored. A
    missing, empty or non-ASCII candidate is simply a mismatch."""
    if not candidate or not expected:
        return False
    # As bytes: a non-ASCII value is a mismatch, never a TypeError in compare_digest.
    return hmac.compare_digest(
        expected.lower().encode("utf-8", "replace"),
        candidate.strip().lower().encode("utf-8", "replace"),
    )

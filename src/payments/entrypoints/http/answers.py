"""How a resource answers a request that created something: 201, its Location and its body."""

from __future__ import annotations

import falcon


def answer_created(resp: falcon.Response, location: str, media: object) -> None:
    """Answer ``201 Created`` with ``Location: location`` and ``media`` as the body (also when
    an idempotent retry replays the creation)."""
    resp.status = falcon.HTTP_201
    resp.location = location
    resp.media = media

"""The API's own description: the OpenAPI document and a browsable page that works offline."""

from __future__ import annotations

from collections.abc import Mapping

import falcon


class OpenApiResource:
    """``GET /openapi.json``."""

    def __init__(self, document: Mapping[str, object]) -> None:
        self._document = document

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = self._document


class DocsPageResource:
    """``GET /docs``: one self-contained HTML page that renders ``/openapi.json``."""

    def __init__(self, html: bytes) -> None:
        self._html = html

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_HTML
        resp.data = self._html

"""The JSON media handler: response Structs and plain summaries encoded by msgspec, no float."""

from __future__ import annotations

import falcon.media
import msgspec
from falcon.typing import ReadableIO

from payments.domain.money import Money


def _encode_domain_value(value: object) -> object:
    """What a summary may hold besides JSON and msgspec's own types: Money, as its JSON form."""
    if isinstance(value, Money):
        return value.to_dict()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class StructJSONHandler(falcon.media.BaseHandler):
    """Encodes ``resp.media`` (a response Struct, or a plain dict) as compact UTF-8 JSON.

    Request bodies are not read through Falcon's media: each resource decodes its own Struct
    (``json_body.read_body``).
    """

    def __init__(self) -> None:
        self._encoder = msgspec.json.Encoder(enc_hook=_encode_domain_value)

    def serialize(self, media: object, content_type: str | None = None) -> bytes:
        return self._encoder.encode(media)

    def deserialize(
        self, stream: ReadableIO, content_type: str | None, content_length: int | None
    ) -> object:
        try:
            return msgspec.json.decode(stream.read())
        except msgspec.DecodeError as error:
            raise falcon.MediaMalformedError(falcon.MEDIA_JSON) from error

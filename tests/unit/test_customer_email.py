"""The one customer e-mail rule (payments.domain.customer): the form stored and sent, the form
limits count, and the addresses refused as not deliverable-looking; generated with hypothesis."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payments.domain.customer import email_limit_key, normalise_email
from payments.domain.errors import ValidationError

_LOCAL = st.text("abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=20)
_LABEL = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12)
# Never Gmail's domains: their dots are tested on their own.
_DOMAIN = st.builds(lambda a, b: f"{a}.{b}", _LABEL, st.sampled_from(["com", "org", "co", "pt"]))
ADDRESSES = st.builds(lambda local, domain: f"{local}@{domain}", _LOCAL, _DOMAIN)

# What renders as nothing, or steers the text: never in an address a person typed.
INVISIBLE = st.one_of(
    st.sampled_from(
        [
            "\u200b",  # zero-width space
            "\u200c",  # zero-width non-joiner
            "\u200d",  # zero-width joiner
            "\u2060",  # word joiner
            "\ufeff",  # zero-width no-break space (BOM)
            "\u00ad",  # soft hyphen
            "\u202e",  # right-to-left override
            "\u2066",  # left-to-right isolate
            "\u200f",  # right-to-left mark
            "\u034f",  # combining grapheme joiner
            "\u3164",  # Hangul filler
            "\ufe0f",  # variation selector 16
            "\u2028",  # line separator
            "\x00",
            "\x1b",
            "\ud800",  # a lone surrogate
        ]
    ),
    st.characters(categories=["Cc", "Cf", "Co"]),
)


def _full_width(text: str) -> str:
    """The full-width form of each ASCII character (``a`` -> U+FF41, ``@`` -> U+FF20)."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@st.composite
def disguised(draw: st.DrawFn, address: str) -> str:
    """``address`` disguised: case changes, a ``+tag``, the domain's trailing dot, full-width
    characters and surrounding spaces, in any combination."""
    local, domain = address.split("@")
    if draw(st.booleans()):
        local += "+" + draw(st.text("abcdefghijklmnopqrstuvwxyz0123456789+.-", max_size=10))
    if draw(st.booleans()):
        domain += "."
    variant = f"{local}@{domain}"
    flips = draw(st.lists(st.booleans(), min_size=len(variant), max_size=len(variant)))
    variant = "".join(c.upper() if flip else c for c, flip in zip(variant, flips, strict=True))
    widths = draw(st.lists(st.booleans(), min_size=len(variant), max_size=len(variant)))
    variant = "".join(_full_width(c) if w else c for c, w in zip(variant, widths, strict=True))
    spaces = draw(st.sampled_from(["", " ", "\t", "\u3000"]))
    return f"{spaces}{variant}{spaces}"


# An address and one of its disguises.
_EVASIONS = ADDRESSES.flatmap(lambda address: st.tuples(st.just(address), disguised(address)))


@given(_EVASIONS)
def test_every_evasion_of_an_address_counts_as_the_address(pair: tuple[str, str]) -> None:
    address, variant = pair

    assert email_limit_key(variant) == email_limit_key(address) == address


@given(_EVASIONS)
def test_the_stored_form_keeps_the_sub_address_and_drops_the_rest(pair: tuple[str, str]) -> None:
    address, variant = pair
    stored = normalise_email(variant)

    local, domain = stored.split("@")
    assert f"{local.split('+', 1)[0]}@{domain}" == address
    assert normalise_email(stored) == stored


@given(ADDRESSES, INVISIBLE, st.data())
def test_an_invisible_character_anywhere_inside_is_refused_naming_the_field(
    address: str, invisible: str, data: st.DataObject
) -> None:
    at = data.draw(st.integers(min_value=1, max_value=len(address) - 1))
    tampered = address[:at] + invisible + address[at:]

    for rule in (normalise_email, email_limit_key):
        with pytest.raises(ValidationError) as refused:
            rule(tampered)
        assert [error.field for error in refused.value.errors] == ["customer.email"]


@given(st.text(max_size=80))
def test_any_text_is_either_refused_or_normalised_for_good(text: str) -> None:
    refused: list[str] = []
    try:
        stored = normalise_email(text, field="email")
    except ValidationError as error:
        refused = [field_error.field for field_error in error.errors]
        stored = ""
    if refused:
        assert refused == ["email"]
        return
    assert normalise_email(stored) == stored
    assert email_limit_key(stored) == email_limit_key(text)


@given(_LOCAL, st.sampled_from(["gmail.com", "googlemail.com", "GMail.com."]), st.data())
def test_dots_in_a_gmail_local_part_count_as_one_address(
    local: str, domain: str, data: st.DataObject
) -> None:
    dots = data.draw(st.lists(st.integers(0, len(local)), max_size=4))
    dotted = "".join(("." if n in dots else "") + c for n, c in enumerate(local))

    assert email_limit_key(f"{dotted}@{domain}") == f"{local}@gmail.com"


def test_dots_elsewhere_are_part_of_the_address() -> None:
    assert email_limit_key("a.na@example.com") != email_limit_key("ana@example.com")
    assert normalise_email("A.Na@GMail.com") == "a.na@gmail.com"  # stored as typed


@pytest.mark.parametrize(
    "email", ["", "ana", "ana@", "@x.com", "ana@x", "a b@x.com", "ana@@x.com", "x" * 250 + "@x.co"]
)
def test_what_is_not_an_address_is_refused(email: str) -> None:
    with pytest.raises(ValidationError):
        normalise_email(email)


def test_an_ideographic_full_stop_in_the_domain_is_a_dot() -> None:
    assert normalise_email("ana@example\u3002com") == "ana@example.com"

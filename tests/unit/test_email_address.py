"""The email address check: what email-validator (pydantic's EmailStr) accepted is still accepted, unchanged once
normalised, so cases stored before load as they were; what it refused for being no address is still refused, with a
message that says what to correct."""

from __future__ import annotations

import warnings

import pytest
from amends.domain.model import Person, email_address
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import EmailStr, TypeAdapter, ValidationError

EMAIL_STR = TypeAdapter(EmailStr)  # what the field was: email-validator, through pydantic


def validated(address: str) -> str | None:
    """What pydantic's EmailStr made of ``address``, or None if it refused it."""
    try:
        return EMAIL_STR.validate_python(address)
    except ValidationError:
        return None


ACCEPTED = [
    ("ada@example.com", "ada@example.com"),
    ("  Ada.Lovelace+complaints@Example.CO.UK ", "Ada.Lovelace+complaints@example.co.uk"),
    ("o'brien@example.ie", "o'brien@example.ie"),
    ("josé@bücher.de", "josé@bücher.de"),  # internationalised both sides (RFC 6531, IDNA)
    ("用户@例子.广告", "用户@例子.广告"),
    ("δοκιμή@παράδειγμα.δοκιμή", "δοκιμή@παράδειγμα.δοκιμή"),
    ("user@xn--bcher-kva.de", "user@xn--bcher-kva.de"),  # a domain already in its ASCII form stays so
    ("a@b.io", "a@b.io"),
]


@pytest.mark.parametrize(("typed", "stored"), ACCEPTED)
def test_addresses_people_have_are_accepted_and_normalised(typed: str, stored: str) -> None:
    assert email_address(typed) == stored
    assert email_address(stored) == stored  # reading a stored case changes nothing
    assert validated(typed) is not None


REFUSED = [
    ("not-an-email", "needs an @-sign"),
    ("ada@", "is not a domain name"),
    ("@example.com", "before the @-sign cannot be empty"),
    ("ada lovelace@example.com", "a space"),
    ("ada@example.com\u200b", "invisible character"),
    ("ada..lovelace@example.com", "two in a row"),
    ("\u0301ada@example.com", "an accent that has no letter under it"),
    (".ada@example.com", "start or end with a dot"),
    ("ada@@example.com", "any of ( ) < > [ ] : ; @"),
    ('"ada"@example.com', "any of ( ) < > [ ] : ; @"),
    ("ada@localhost", "is not a domain name"),
    ("ada@example", "is not a domain name"),
    ("ada@example..com", "is not a domain name"),
    ("ada@-example.com", "is not a domain name"),
    ("ada@example.123", "is not a domain name"),
    ("ada@printer.local", "is not a domain name"),
    ("ada@[192.0.2.1]", "is not a domain name"),
    ("ada@exa_mple.com", "is not a domain name"),
    ("ada@😀.com", "is not a domain name"),  # not a valid internationalised domain (IDNA 2008)
    ("a" * 250 + "@example.com", "longer than 254 characters"),
]


@pytest.mark.parametrize(("typed", "says"), REFUSED)
def test_what_is_no_address_is_refused_saying_what_to_correct(typed: str, says: str) -> None:
    with pytest.raises(ValidationError) as raised:
        Person(name="Ada", email=typed)
    [error] = raised.value.errors()
    assert error["loc"] == ("email",)
    assert error["msg"].startswith("Value error, value is not a valid email address: ") and says in error["msg"]
    assert validated(typed) is None


# Addresses shaped like addresses, from the characters that make them hard: specials, dots, spaces, non-ASCII
# letters, combining marks, invisible and full-width characters, upper case.
_PART = st.text(alphabet=st.sampled_from("aZ09.-_+'!#()<>[]:;,\\\" \t@éßİ\u0301\u200d用ｅΣ"), min_size=0, max_size=12)
_DOMAIN = st.lists(st.text(alphabet=st.sampled_from("aZ09-_éßİ用ｅΣ\u0301"), max_size=8), min_size=1, max_size=4).map(".".join)


@settings(max_examples=400, deadline=None)
@given(st.builds(lambda local, domain, tld: f"{local}@{domain}.{tld}", _PART, _DOMAIN,
                 st.sampled_from(["com", "de", "UK", "1", "local", "xn--p1ai", "рф", ""])))
@example("josé@bücher.de")
@example("user@straße.de")
def test_everything_email_validator_accepted_is_still_accepted_and_stored_addresses_do_not_change(address: str) -> None:
    normalised = validated(address)
    if normalised is not None:
        email_address(address)  # raises if refused
        assert email_address(normalised) == normalised


def test_the_length_limit_counts_an_internationalised_domain_in_its_idna_2008_form_without_warnings() -> None:
    # straße.de is xn--strae-oqa.de (16 characters) in IDNA 2008, which keeps the ß; asking for the old transitional
    # mapping (which idna no longer does) would log a DeprecationWarning for every such address.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert email_address("a" * 237 + "@straße.de") == "a" * 237 + "@straße.de"  # 237 + 1 + 16 = 254
        with pytest.raises(ValueError, match="longer than 254 characters"):
            email_address("a" * 238 + "@straße.de")


def test_a_bad_local_part_is_refused_with_the_whole_rule() -> None:
    with pytest.raises(ValueError) as raised:
        email_address("ada..lovelace@example.com")
    assert str(raised.value) == ("value is not a valid email address: the part before the @-sign cannot be empty, "
                                 "contain spaces or any of ( ) < > [ ] : ; @ \\ , \" or start or end with a dot or "
                                 "have two in a row")


def test_a_top_level_domain_must_end_in_a_letter() -> None:
    with pytest.raises(ValueError, match="not a domain name that receives mail"):
        email_address("ada@example.co1")


@pytest.mark.parametrize("address", ["ada@mail.local.example.com", "ada@www.test.example.org"])
def test_a_special_use_name_only_matters_as_the_top_level_domain(address: str) -> None:
    assert email_address(address) == address


def test_a_special_use_top_level_domain_deeper_down_is_still_refused() -> None:
    with pytest.raises(ValueError, match="not a domain name that receives mail"):
        email_address("ada@a.b.test")


def test_the_longest_domain_is_253_characters_and_then_the_whole_address_is_too_long() -> None:
    longest = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61])
    with pytest.raises(ValueError, match="longer than 254 characters"):  # the domain itself is fine
        email_address(f"a@{longest}")
    over = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 62])
    with pytest.raises(ValueError, match="not a domain name that receives mail"):
        email_address(f"a@{over}")


def test_an_ascii_domain_is_taken_as_dns_has_it_without_idna_rules() -> None:
    """Like email-validator, only internationalised domains go through IDNA 2008: an ASCII name with hyphens in the
    third and fourth places is a valid host name that IDNA would refuse."""
    assert email_address("ada@my--shop.com") == "ada@my--shop.com"

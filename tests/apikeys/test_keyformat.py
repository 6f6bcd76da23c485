import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apikeys import keyformat
from apikeys.models import Scope

ENVS = st.sampled_from(keyformat.ENV_PREFIXES)


@given(ENVS)
def test_a_generated_key_parses_back_to_its_environment_and_id(env):
    key = keyformat.generate(env)
    parsed = keyformat.parse(key)
    assert parsed is not None
    assert parsed.env == env
    assert key.startswith(f"kw_{env}_{parsed.key_id}_")


@settings(max_examples=300)
@given(ENVS, st.data())
def test_any_single_character_change_is_refused(env, data):
    key = keyformat.generate(env)
    position = data.draw(st.integers(min_value=0, max_value=len(key) - 1))
    replacement = data.draw(st.sampled_from(keyformat.BASE62 + "_-"))
    mutated = key[:position] + replacement + key[position + 1 :]
    if mutated != key:
        assert keyformat.parse(mutated) is None


@given(st.text(max_size=200))
def test_arbitrary_text_never_parses_or_crashes(text):
    assert keyformat.parse(text) is None or keyformat.KEY_PATTERN.fullmatch(text)


def test_the_secret_carries_at_least_160_random_bits():
    keys = [keyformat.generate("live") for _ in range(200)]
    secrets = [key.rsplit("_", 1)[1][: -keyformat.CHECKSUM_LENGTH] for key in keys]
    # Each secret is drawn from all 62 characters (6,000 draws miss one with odds ~1e-41)...
    assert set("".join(secrets)) == set(keyformat.BASE62)
    assert len(set(secrets)) == len(secrets)
    # ...and is long enough that 62 choices per character make 160 bits.
    assert all(len(secret) * math.log2(62) >= 160 for secret in secrets)


def test_truncated_and_oversized_keys_are_refused():
    key = keyformat.generate("live")
    assert keyformat.parse(key[:-1]) is None
    assert keyformat.parse(key + "A") is None
    assert keyformat.parse("kw_live_" + "A" * 100_000) is None


def test_a_leaked_key_is_found_in_text_by_the_pattern():
    key = keyformat.generate("stg")
    text = f"export TOKEN={key}\n# more text"
    assert keyformat.KEY_PATTERN.search(text).group(0) == key


def test_the_stored_hash_is_a_keyed_hmac_not_a_plain_digest():
    import hashlib

    key = keyformat.generate("dev")
    stored = keyformat.hash_key(key)
    assert len(stored) == 64
    assert stored != hashlib.sha256(key.encode()).hexdigest()
    assert stored != keyformat.hash_key(keyformat.generate("dev"))


def test_keys_for_the_same_id_differ_in_their_secret():
    first = keyformat.generate("live", "AbCdEfGhIj")
    second = keyformat.generate("live", "AbCdEfGhIj")
    assert first != second
    assert keyformat.parse(first).key_id == keyformat.parse(second).key_id == "AbCdEfGhIj"


def test_an_unknown_environment_is_refused():
    with pytest.raises(ValueError):
        keyformat.generate("prod")


def test_no_scope_name_is_part_of_another():
    # ApiKeyQuerySet.with_scope matches scopes by substring.
    for scope in Scope.values:
        assert [s for s in Scope.values if scope in s] == [scope]

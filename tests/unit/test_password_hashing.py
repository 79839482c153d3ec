"""Argon2's cost is a setting; hashes made at any cost keep verifying."""

from __future__ import annotations

from argon2 import extract_parameters

from impserver.core import security


def test_new_hashes_use_the_configured_cost_and_older_ones_still_verify() -> None:
    security.configure_password_hashing(time_cost=2, memory_kib=2048)
    older = security.hash_password("correct horse")
    security.configure_password_hashing(time_cost=1, memory_kib=1024)
    newer = security.hash_password("correct horse")

    assert (extract_parameters(older).time_cost, extract_parameters(older).memory_cost) == (2, 2048)
    assert (extract_parameters(newer).time_cost, extract_parameters(newer).memory_cost) == (1, 1024)
    assert security.verify_password(older, "correct horse")
    assert security.verify_password(newer, "correct horse")
    assert not security.verify_password(older, "wrong horse")
    assert not security.verify_password(None, "correct horse")

"""Signing keys are cached by kid and refreshed on an unknown kid at most every five minutes."""

from __future__ import annotations

from joserfc.jwk import RSAKey

from facito_admin.auth.tokens import KeyCache


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _jwks(*keys: RSAKey) -> dict[str, object]:
    return {"keys": [k.as_dict(private=False) for k in keys]}


def test_known_kid_is_served_from_cache_without_fetching():
    key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    fetches: list[str] = []
    clock = Clock()
    cache = KeyCache(
        "https://keys",
        ttl=86400,
        min_refresh=300,
        fetch=lambda url: fetches.append(url) or _jwks(key),
        clock=clock,
    )
    assert cache.get("k1") is not None
    for _ in range(100):
        assert cache.get("k1") is not None
    assert len(fetches) == 1


def test_unknown_kid_refreshes_at_most_once_per_interval_and_picks_up_rotation():
    old = RSAKey.generate_key(2048, parameters={"kid": "old"})
    new = RSAKey.generate_key(2048, parameters={"kid": "new"})
    published = [old]
    fetches = []
    clock = Clock()
    cache = KeyCache(
        "https://keys",
        ttl=86400,
        min_refresh=300,
        fetch=lambda url: fetches.append(url) or _jwks(*published),
        clock=clock,
    )
    assert cache.get("old") is not None
    published = [old, new]
    clock.now += 10
    # A flood of unknown kids inside the interval causes no fetch at all.
    for i in range(50):
        assert cache.get(f"forged-{i}") is None
    assert len(fetches) == 1
    assert cache.get("new") is None
    clock.now += 300
    assert cache.get("new") is not None
    assert len(fetches) == 2


def test_failed_refresh_keeps_the_keys_we_have():
    key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    clock = Clock()
    calls = {"n": 0}

    def fetch(url: str) -> dict[str, object]:
        calls["n"] += 1
        if calls["n"] > 1:
            raise ValueError("key endpoint down")
        return _jwks(key)

    cache = KeyCache("https://keys", ttl=600, min_refresh=300, fetch=fetch, clock=clock)
    assert cache.get("k1") is not None
    clock.now += 700  # stale: a refresh is attempted and fails
    assert cache.get("k1") is not None

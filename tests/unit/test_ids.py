"""Ids: UUIDv7 in creation order, close to the clock, unique across threads."""

from __future__ import annotations

import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from facito_admin.db.base import new_id


def test_ids_are_rfc_9562_version_7():
    made = new_id()
    assert (made.version, made.variant) == (7, uuid.RFC_4122)


def test_ids_made_in_a_burst_sort_in_the_order_they_were_made():
    ids = [new_id() for _ in range(20_000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_a_burst_of_ids_advances_their_time_only_as_fast_as_the_clock():
    before = time.time_ns() // 1_000_000
    ids = [new_id() for _ in range(20_000)]
    after = time.time_ns() // 1_000_000
    # Beyond the time the burst took, at most a millisecond per 2,048 ids of one millisecond
    # (the counter's room). (The first id may be ahead of the clock: a test that travelled in
    # time leaves the id clock where it went, and ids never go back.)
    assert (ids[-1].int >> 80) - (ids[0].int >> 80) <= after - before + 20_000 // 2048 + 1


def test_ids_made_by_many_threads_at_once_are_unique():
    with ThreadPoolExecutor(max_workers=8) as pool:
        batches = list(pool.map(lambda _: [new_id() for _ in range(5_000)], range(8)))
    ids = [made for batch in batches for made in batch]
    assert len(set(ids)) == len(ids)
    assert all(batch == sorted(batch) for batch in batches)


def test_a_forked_process_does_not_reuse_its_parents_random_bits():
    low_bits = (1 << 62) - 1
    new_id()  # the parent's pool of random words is filled
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child's coverage is not collected
        os.write(writing, ",".join(str(new_id().int & low_bits) for _ in range(3)).encode())
        os._exit(0)
    os.close(writing)
    os.waitpid(child, 0)
    in_child = {int(bits) for bits in os.read(reading, 1024).decode().split(",")}
    os.close(reading)
    in_parent = {new_id().int & low_bits for _ in range(3)}
    assert len(in_child) == 3
    assert in_child.isdisjoint(in_parent)

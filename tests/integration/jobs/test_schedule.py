"""One periodic schedule for the deployment: however many consumers run, one holds the lease and
enqueues the periodic tasks; when it dies another takes over and catches up on the minutes it
missed, each task once."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

from huey import MemoryHuey, crontab

from facito_admin.jobs.schedule import LEASE_SECONDS, LeasedScheduler, ScheduleLeases
from facito_admin.runtime import Runtime

MINUTE = datetime(2026, 12, 6, 2, 40, tzinfo=UTC)


def _leases(runtime: Runtime, holder: str) -> ScheduleLeases:
    return ScheduleLeases(runtime.database, holder=holder)


def _after(minutes: float) -> datetime:
    return MINUTE + timedelta(minutes=minutes)


def test_one_consumer_holds_the_schedule_and_the_others_wait(runtime: Runtime):
    first, second = _leases(runtime, "worker-1"), _leases(runtime, "worker-2")

    assert first.claim(MINUTE, now=MINUTE) == [MINUTE]
    assert second.claim(MINUTE, now=MINUTE) is None
    assert second.claim(_after(1), now=_after(1)) is None
    assert first.claim(_after(1), now=_after(1)) == [_after(1)]


def test_a_dead_holders_schedule_is_taken_over_with_the_minutes_it_missed(runtime: Runtime):
    first, second = _leases(runtime, "worker-1"), _leases(runtime, "worker-2")
    assert first.claim(MINUTE, now=MINUTE) == [MINUTE]

    # worker-1 dies: its lease runs out LEASE_SECONDS after its last renewal.
    expired = MINUTE + timedelta(seconds=LEASE_SECONDS + 1)
    assert second.claim(_after(2), now=MINUTE + timedelta(seconds=LEASE_SECONDS - 1)) is None
    taken = second.claim(_after(3), now=expired)

    assert taken == [_after(1), _after(2), _after(3)]
    assert first.claim(_after(4), now=_after(4)) is None


def test_a_graceful_stop_hands_the_schedule_over_at_the_next_minute(runtime: Runtime):
    first, second = _leases(runtime, "worker-1"), _leases(runtime, "worker-2")
    assert first.claim(MINUTE) == [MINUTE]

    first.release()

    assert second.claim(_after(1)) == [_after(1)]


def test_consumers_racing_for_a_free_schedule_leave_exactly_one_holder(runtime: Runtime):
    contenders = [_leases(runtime, f"worker-{n}") for n in range(8)]
    results: dict[str, list[datetime] | None] = {}
    start = threading.Barrier(len(contenders))

    def contend(leases: ScheduleLeases) -> None:
        start.wait()
        try:
            results[leases.holder] = leases.claim(MINUTE, now=MINUTE)
        except Exception:  # noqa: BLE001 - SQLite refuses a racing writer: it did not win
            results[leases.holder] = None

    threads = [threading.Thread(target=contend, args=(each,)) for each in contenders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len([won for won in results.values() if won]) == 1


def test_only_the_holder_enqueues_and_a_takeover_runs_a_missed_daily_task_once(runtime: Runtime):
    huey = MemoryHuey("schedule-test", utc=True)
    runs: list[str] = []
    huey.periodic_task(crontab(minute="*"), name="every-minute")(lambda: runs.append("minute"))
    huey.periodic_task(crontab(minute="42", hour="2"), name="daily")(lambda: runs.append("daily"))
    stop = threading.Event()

    def scheduler(holder: str) -> LeasedScheduler:
        return LeasedScheduler(
            huey=huey, stop_flag=stop, interval=1, periodic=True, leases=_leases(runtime, holder)
        )

    def enqueued() -> list[str]:
        names = []
        while (task := huey.dequeue()) is not None:
            names.append(task.name)
        return sorted(names)

    first, second = scheduler("worker-1"), scheduler("worker-2")
    first.enqueue_periodic_tasks(MINUTE.replace(tzinfo=None))
    second.enqueue_periodic_tasks(MINUTE.replace(tzinfo=None))
    assert enqueued() == ["every-minute"]

    # worker-1 dies at 02:40; worker-2 takes over at 02:44 (its lease ran out) and the 02:42
    # daily task, due while nobody held the schedule, runs once.
    with runtime.database.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE schedule_leases SET expires_at = NULL")
    second.enqueue_periodic_tasks(_after(4).replace(tzinfo=None))
    assert enqueued() == ["daily", "every-minute"]
    second.enqueue_periodic_tasks(_after(5).replace(tzinfo=None))
    assert enqueued() == ["every-minute"]


def test_a_holder_that_died_on_this_host_is_replaced_at_once(runtime: Runtime):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    crashed = _leases(runtime, f"{socket.gethostname()}:{dead.pid}:0badcafe")
    assert crashed.claim(MINUTE, now=MINUTE) == [MINUTE]

    restarted = _leases(runtime, "restarted")

    assert restarted.claim(_after(1), now=_after(1)) == [_after(1)]


def test_a_live_holder_or_one_of_another_host_keeps_its_lease(runtime: Runtime):
    alive = _leases(runtime, f"{socket.gethostname()}:{os.getpid()}:alive")
    assert alive.claim(MINUTE, now=MINUTE) == [MINUTE]
    assert _leases(runtime, "other").claim(_after(1), now=_after(1)) is None

    elsewhere = _leases(runtime, "another-host:1:elsewhere")
    alive.release()
    assert elsewhere.claim(_after(2)) == [_after(1), _after(2)]
    assert _leases(runtime, "other").claim(_after(3), now=_after(3)) is None

"""Serving a WSGI app under gunicorn and driving it with load, for the benchmarks in bench/.

Two drivers make the load: wrk (what the figures are measured with) and a small Python one
(threads, one HTTP/1.1 connection each, http.client), used when wrk is not installed or when
a benchmark is given ``--driver python``. The Python driver competes with the servers for the
CPU and is slower than wrk, so its figures are for smoke runs (`make bench-smoke`): it is
there so that a benchmark that no longer runs fails CI whether or not the machine has wrk.
Each benchmark describes its load once (:class:`Load`: the URL, a wrk Lua script or none,
and the same requests and answer checks in Python) and either driver runs it.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def load_average() -> str:
    """The machine's 1, 5 and 15 minute load averages, for the report beside the figures."""
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def gunicorn(
    app: str,
    env: dict[str, str],
    *,
    workers: int,
    log: Path,
    cwd: Path,
    config: Path | None = None,
    threads: int = 1,
) -> Iterator[str]:
    """Serve ``app`` under gunicorn until the block ends; yield its base URL.

    ``threads`` > 1 runs gthread workers with that many threads each (as gunicorn.conf.py
    does); 1 is sync workers. The command line wins over a config file's settings.
    """
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}"]
    command += ["--threads", str(threads)]
    command += ["--worker-class", "gthread" if threads > 1 else "sync"]
    if config is not None:
        command += ["-c", str(config)]
    command.append(app)
    with log.open("ab") as output:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=output,
            stderr=output,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base + "/livez", process, log)
        yield base
    finally:
        stop_group(process, timeout=20)


def stop_group(process: subprocess.Popen[bytes], *, timeout: float) -> None:
    """SIGTERM a process started in a session of its own and its children; SIGKILL if slow."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited ({process.returncode}); see {log}")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(url, timeout=2) as response,
        ):
            if response.status == 200:
                return
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within 60 s; see {log}")


def fetch_json(url: str, headers: dict[str, str]) -> Any:
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


@dataclass(frozen=True)
class WrkResult:
    requests_per_second: float
    latency: str
    errors: str
    output: str = ""


def wrk(
    url: str,
    *,
    seconds: float,
    threads: int,
    connections: int,
    headers: dict[str, str],
    script: Path | None = None,
    script_args: Sequence[str] = (),
) -> WrkResult:
    """One wrk run; with ``script``, a Lua script builds the requests (``script_args`` after --)."""
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
    ]
    if script is not None:
        command += ["-s", str(script)]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command.append(url)
    if script_args:
        command += ["--", *script_args]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if rps is None:
        raise SystemExit(f"cannot read wrk's output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if non_2xx:
        raise SystemExit(f"{url}: {non_2xx.group(1)} answers were not 2xx; wrk said:\n{output}")
    latency = re.search(r"Latency\s+(\S+)", output)
    socket_errors = re.search(r"Socket errors:([^\n]+)", output)
    return WrkResult(
        float(rps.group(1)),
        latency.group(1) if latency else "?",
        socket_errors.group(1).strip() if socket_errors else "none",
        output,
    )


# One request of the Python driver: method, path with query, body (None: no body).
PlannedRequest = tuple[str, str, bytes | None]


@dataclass(frozen=True)
class Load:
    """The load on one URL, for either driver.

    ``script``/``script_args``: the wrk Lua script building the requests and checking the
    answers (it prints ``bench: unexpected N``), if any; ``plan(thread, n)`` gives the Python
    driver's n-th request of a thread and ``expect(status, body)`` whether an answer is what the
    script would accept. Without a plan, a GET of the URL; without expect, any 2xx.
    """

    url: str
    headers: dict[str, str]
    script: Path | None = None
    script_args: Sequence[str] = ()
    plan: Callable[[int, int], PlannedRequest] | None = None
    expect: Callable[[int, bytes], bool] | None = None


DRIVERS = ("auto", "wrk", "python")


def choose_driver(name: str) -> str:
    """``auto`` is wrk when it is installed, the Python driver otherwise."""
    if name == "auto":
        return "wrk" if shutil.which("wrk") else "python"
    if name == "wrk" and shutil.which("wrk") is None:
        raise SystemExit(
            "wrk is not installed: `apt-get install -y wrk` (Debian/Ubuntu), `brew install wrk`; "
            "or --driver python (smoke runs: its figures are not comparable)"
        )
    return name


def drive(load: Load, *, driver: str, seconds: float, threads: int, connections: int) -> WrkResult:
    """One run of ``load`` by ``driver`` (wrk or python); a wrong answer ends the benchmark."""
    if driver == "python":
        return python_load(load, seconds=seconds, connections=connections)
    result = wrk(
        load.url,
        seconds=seconds,
        threads=threads,
        connections=connections,
        headers=load.headers,
        script=load.script,
        script_args=load.script_args,
    )
    if load.script is not None:
        unexpected = re.search(r"bench: unexpected (\d+)", result.output)
        if unexpected is None or int(unexpected.group(1)):
            raise SystemExit(f"{load.url}: answers not as expected; wrk said:\n{result.output}")
    return result


def python_load(load: Load, *, seconds: float, connections: int) -> WrkResult:
    """``connections`` threads, each sending ``load``'s requests one after the other for
    ``seconds`` over its own connection (reopened when the server closes it, as gunicorn's sync
    workers do after each answer); requests/s, mean latency and the wrong answers, like wrk."""
    parts = urllib.parse.urlsplit(load.url)
    base_path = parts.path + (f"?{parts.query}" if parts.query else "")
    deadline = time.monotonic() + seconds
    lock = threading.Lock()
    totals = {"done": 0, "latency": 0.0, "errors": 0, "unexpected": 0}
    first_unexpected: list[str] = []

    def worker(thread: int) -> None:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        done = errors = unexpected = 0
        latency = 0.0
        n = 0
        while time.monotonic() < deadline:
            method, path, body = load.plan(thread, n) if load.plan else ("GET", base_path, None)
            n += 1
            started = time.perf_counter()
            try:
                connection.request(method, path, body=body, headers=load.headers)
                response = connection.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException):
                connection.close()
                errors += 1
                continue
            latency += time.perf_counter() - started
            done += 1
            good = load.expect(response.status, data) if load.expect else response.status < 300
            if not good:
                unexpected += 1
                if not first_unexpected:
                    first_unexpected.append(f"{method} {path}: {response.status} {data[:300]!r}")
            if response.will_close:
                connection.close()
        connection.close()
        with lock:
            totals["done"] += done
            totals["latency"] += latency
            totals["errors"] += errors
            totals["unexpected"] += unexpected

    started = time.monotonic()
    workers = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    elapsed = time.monotonic() - started
    if totals["unexpected"] or not totals["done"]:
        raise SystemExit(
            f"{load.url}: {totals['unexpected']} answers not as expected of {totals['done']} "
            f"({totals['errors']} connection errors); first: {first_unexpected[:1]}"
        )
    mean_ms = totals["latency"] / totals["done"] * 1000
    return WrkResult(
        totals["done"] / elapsed,
        f"{mean_ms:.2f}ms",
        f"{totals['errors']} (python driver)" if totals["errors"] else "none (python driver)",
    )


def alternate(
    loads: dict[str, Load],
    *,
    driver: str,
    rounds: int,
    seconds: float,
    threads: int,
    connections: int,
    warm_up: float = 2,
) -> dict[str, list[WrkResult]]:
    """Each load in turn, ``rounds`` times, alternating the order (drift cancels out); a
    ``warm_up`` of 0 runs none (smoke runs: wrk runs a second at least)."""
    results: dict[str, list[WrkResult]] = {name: [] for name in loads}
    names = list(loads)
    for name in names if warm_up > 0 else ():  # imports, prepared statements, caches, page cache
        drive(loads[name], driver=driver, seconds=warm_up, threads=threads, connections=connections)
    for n in range(rounds):
        for name in names if n % 2 == 0 else list(reversed(names)):
            results[name].append(
                drive(
                    loads[name],
                    driver=driver,
                    seconds=seconds,
                    threads=threads,
                    connections=connections,
                )
            )
    return results


def median_rps(results: list[WrkResult]) -> float:
    return statistics.median(r.requests_per_second for r in results)


def describe(results: list[WrkResult]) -> str:
    rounds = " ".join(f"{r.requests_per_second:7.1f}" for r in results)
    return (
        f"rounds [{rounds}]  latency avg {results[-1].latency}  socket errors: {results[-1].errors}"
    )


def paired(numerator: list[WrkResult], denominator: list[WrkResult]) -> list[float]:
    """Ratios of the runs made back to back in each round (other load on the machine moves
    both alike), so that a busy moment does not land on one side only."""
    return [
        a.requests_per_second / b.requests_per_second
        for a, b in zip(numerator, denominator, strict=True)
    ]


def figures(values: list[float]) -> str:
    return " ".join(f"{v:.2f}" for v in values)

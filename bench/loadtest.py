"""Serving a WSGI app under gunicorn and driving it with wrk, for the benchmarks in bench/."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
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
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
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


def alternate(
    urls: dict[str, tuple[str, dict[str, str]]],
    *,
    rounds: int,
    seconds: float,
    threads: int,
    connections: int,
) -> dict[str, list[WrkResult]]:
    """wrk on each URL in turn, ``rounds`` times, alternating the order (drift cancels out)."""
    results: dict[str, list[WrkResult]] = {name: [] for name in urls}
    names = list(urls)
    for name in names:  # warm-up: imports, prepared statements, caches, page cache
        url, headers = urls[name]
        wrk(url, seconds=2, threads=threads, connections=connections, headers=headers)
    for n in range(rounds):
        for name in names if n % 2 == 0 else list(reversed(names)):
            url, headers = urls[name]
            results[name].append(
                wrk(
                    url,
                    seconds=seconds,
                    threads=threads,
                    connections=connections,
                    headers=headers,
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

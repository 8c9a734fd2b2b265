"""The console's API and pages driven from a second process over loopback; prints latency,
throughput and the server's memory.

Run from the repo root on a workspace the pipeline has run on (``cdp run``):
``.venv/bin/python benchmarks/api_benchmark.py --workspace DIR [--rate 500] [--seconds 20]``.

It starts ``cdp serve`` on a free loopback port (its own process: the server), issues a
benchmark token and user, and from this process measures:

- single OneID lookups (``GET /api/v1/oneid``, phones and member cards drawn from the OneID
  map) sent open-loop at ``--rate`` requests per second for ``--seconds``: p50 / p99 / max
  latency from each request's scheduled send time (so a stall counts against every request
  it delays), and the rate achieved;
- the same lookups closed-loop from ``--clients`` connections: the most the server answers;
- batch lookups of 10,000 identifiers (``POST /api/v1/oneid/batch``): time per batch;
- dashboard page loads (``GET /`` with a session) for the whole group and for one mall;
- the server's resident memory after start-up and its peak (VmHWM).
"""

from __future__ import annotations

import argparse
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from cdp.config import load_settings
from cdp.console.users import UserStore, users_db
from cdp.lakehouse import Lakehouse
from cdp.tables import IDENTITY_MAP


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def memory_mib(pid: int) -> dict[str, float]:
    """Resident memory now and at its peak (VmRSS, VmHWM) of a process, in MiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def summary(name: str, seconds: list[float]) -> str:
    ms = [s * 1000 for s in seconds]
    return (
        f"{name}: n={len(ms)} p50 {statistics.median(ms):.1f} ms, p99 "
        f"{percentile(ms, 0.99):.1f} ms, max {max(ms):.1f} ms"
    )


def sample_identifiers(settings, count: int, seed: int = 7) -> list[tuple[str, str]]:
    """Phones and member cards of the OneID map, drawn at random."""
    table = Lakehouse(settings.lakehouse_dir).to_arrow(
        IDENTITY_MAP, ["identifier_type", "identifier_value"]
    )
    pairs = [
        (t, v)
        for t, v in zip(
            table.column("identifier_type").to_pylist(),
            table.column("identifier_value").to_pylist(),
        )
        if t in ("phone", "member_card")
    ]
    return random.Random(seed).sample(pairs, min(count, len(pairs)))


def start_server(workspace: Path, port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "cdp.cli", "--workspace", str(workspace), "serve"]
        + ["--port", str(port)],
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{url}/login", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.terminate()
    raise RuntimeError(f"cdp serve did not answer on {url}")


def open_loop(url: str, token: str, pairs, rate: float, seconds: float, clients: int):
    """Requests scheduled at ``rate`` per second; latency from the scheduled send time."""
    total = int(rate * seconds)
    start = time.perf_counter() + 0.2
    latencies: list[float] = []
    errors = [0]
    next_index = iter(range(total))
    lock = threading.Lock()

    def worker():
        with httpx.Client(headers={"Authorization": f"Bearer {token}"}) as client:
            while True:
                with lock:
                    i = next(next_index, None)
                if i is None:
                    return
                due = start + i / rate
                wait = due - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                kind, value = pairs[i % len(pairs)]
                answer = client.get(f"{url}/api/v1/oneid", params={"type": kind, "value": value})
                done = time.perf_counter()
                with lock:
                    latencies.append(done - due)
                    errors[0] += answer.status_code != 200

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    return latencies, total / elapsed, errors[0]


def closed_loop(url: str, token: str, pairs, seconds: float, clients: int) -> float:
    """Requests answered per second with ``clients`` connections sending back to back."""
    counts = [0] * clients
    stop = time.perf_counter() + seconds

    def worker(slot: int):
        with httpx.Client(headers={"Authorization": f"Bearer {token}"}) as client:
            i = slot
            while time.perf_counter() < stop:
                kind, value = pairs[i % len(pairs)]
                client.get(f"{url}/api/v1/oneid", params={"type": kind, "value": value})
                counts[slot] += 1
                i += clients

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / seconds


def batches(url: str, token: str, pairs, repeats: int) -> list[float]:
    body = {"identifiers": [{"type": t, "value": v} for t, v in pairs[:10_000]]}
    times = []
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        for _ in range(repeats):
            began = time.perf_counter()
            answer = client.post(f"{url}/api/v1/oneid/batch", json=body)
            times.append(time.perf_counter() - began)
            answer.raise_for_status()
    return times


def page_loads(url: str, user: str, password: str, repeats: int) -> list[float]:
    with httpx.Client(base_url=url, timeout=60) as client:
        client.post("/login", data={"username": user, "password": password})
        client.get("/").raise_for_status()  # the first load opens the marts: not counted
        times = []
        for _ in range(repeats):
            began = time.perf_counter()
            client.get("/").raise_for_status()
            times.append(time.perf_counter() - began)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", required=True, type=Path)
    parser.add_argument("--rate", type=float, default=500.0, help="Single lookups per second.")
    parser.add_argument("--seconds", type=float, default=20.0, help="Length of the rated run.")
    parser.add_argument("--clients", type=int, default=8, help="Connections sending lookups.")
    args = parser.parse_args()
    settings = load_settings(workspace=args.workspace)
    store = UserStore(users_db(settings.workspace))
    stamp = time.strftime("%Y%m%d%H%M%S")
    token = store.issue_token(f"benchmark_{stamp}", "operations", "group")
    mall = "mall:MALL_SH01"
    password = "benchmark-password"
    store.add_user(f"bench_group_{stamp}", password, "operations", "group")
    store.add_user(f"bench_mall_{stamp}", password, "operations", mall)
    pairs = sample_identifiers(settings, 20_000)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    began = time.perf_counter()
    server = start_server(settings.workspace, port)
    try:
        print(f"server up in {time.perf_counter() - began:.1f} s; {len(pairs):,} identifiers")
        # warm-up: the OneID map is loaded into memory on the first lookup
        began = time.perf_counter()
        httpx.get(
            f"{url}/api/v1/oneid",
            params={"type": pairs[0][0], "value": pairs[0][1]},
            headers={"Authorization": f"Bearer {token}"},
            timeout=600,
        )
        print(f"first lookup (loads the OneID map): {time.perf_counter() - began:.2f} s")
        print(f"server memory after warm-up: {memory_mib(server.pid)}")
        latencies, achieved, errors = open_loop(
            url, token, pairs, args.rate, args.seconds, args.clients
        )
        print(summary(f"single lookups at {args.rate:.0f}/s", latencies))
        print(f"  achieved {achieved:.0f} requests/s, {errors} errors")
        print(
            f"single lookups closed-loop, {args.clients} clients: "
            f"{closed_loop(url, token, pairs, 10, args.clients):.0f} requests/s"
        )
        print(summary("batch of 10,000", batches(url, token, pairs, 10)))
        print(summary("dashboard, group", page_loads(url, f"bench_group_{stamp}", password, 20)))
        print(summary(f"dashboard, {mall}", page_loads(url, f"bench_mall_{stamp}", password, 20)))
        print(f"server memory at the end: {memory_mib(server.pid)}")
    finally:
        server.terminate()
        server.wait(timeout=30)
        store.revoke_token(f"benchmark_{stamp}")
        store.disable_user(f"bench_group_{stamp}")
        store.disable_user(f"bench_mall_{stamp}")


if __name__ == "__main__":
    main()

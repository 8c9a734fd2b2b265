"""Engines side by side: ingest, standardise and OneID on Sail and on a JVM Spark server.

Generates N customers x D days once, then runs the three steps from an empty workspace on each
engine: the embedded Sail server, and a local JVM Spark Connect server with Delta Lake
(`cdp.spark_server`, started here on a free port and stopped at the end). OneID uses the same
engine on both (`--identity-engine`, default `spark`: the distributed connected components, the
part that differs between engines). Each step runs in its own process, as an Airflow task does;
a step's time includes starting Python (and Sail, in the Sail runs). Peak memory: the step
process's resident high-water mark (the embedded Sail server runs inside it), and for the JVM
runs the JVM's, reset before each step (`/proc/PID/clear_refs`). Not a test: it reports figures.

    python benchmarks/engines_benchmark.py --customers 100000 --days 30

`--oneid-edges N [N ...]` measures OneID's Spark engine alone instead, on the JVM server, on
``mixed`` synthetic identity graphs (benchmarks/synthetic_graphs.py) of N edges: time, rounds
and shuffle volume (bytes written by shuffles, from the server's monitoring REST API).

    python benchmarks/engines_benchmark.py --oneid-edges 1000000 10000000
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from generated import add_dataset_arguments, generate_landing

STEPS = [
    ("ingest", "tasks.ingest()"),
    ("silver", "tasks.standardise()"),
    ("OneID", "tasks.resolve_identity()"),
]
RUNNER = """
import json, resource, sys
from cdp import tasks
result = eval(sys.argv[1])
peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"peak_mib": peak_mib}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[2:]),
    )
    add_dataset_arguments(parser, customers=100_000)
    parser.add_argument("--identity-engine", choices=("spark", "embedded"), default="spark")
    parser.add_argument("--jvm-memory", default="8g", help="JVM heap (default 8g)")
    parser.add_argument("--engines", nargs="+", choices=("sail", "jvm"), default=["sail", "jvm"])
    parser.add_argument("--oneid-edges", type=int, nargs="+", help="OneID scaling mode (above)")
    args = parser.parse_args()

    workspace = args.workspace or Path(tempfile.mkdtemp(prefix="cdp-engines-bench-"))
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    if args.oneid_edges:
        oneid_scaling(args.oneid_edges, workspace, args)
        return
    landing_ws = workspace / "data"
    seconds = generate_landing(landing_ws, args.customers, args.days, args.seed)
    print(f"generated {args.customers:,} customers x {args.days} days in {seconds:.0f} s")
    results = {}
    for engine in args.engines:
        results[engine] = run_engine(engine, workspace, landing_ws / "landing", args)
    print_table(results)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    if not args.workspace:
        shutil.rmtree(workspace, ignore_errors=True)


def run_engine(engine: str, workspace: Path, landing: Path, args) -> list[dict]:
    """The three steps on one engine from an empty workspace: time and peaks per step."""
    ws = workspace / f"run-{engine}"
    shutil.rmtree(ws, ignore_errors=True)
    env = {
        **os.environ,
        "CDP_HOME": str(ws),
        "CDP_LANDING": str(landing),
        "CDP_IDENTITY_ENGINE": args.identity_engine,
    }
    env.pop("SPARK_REMOTE", None)
    server = None
    if engine == "jvm":
        server = start_jvm(args.jvm_memory)
        env["SPARK_REMOTE"] = server.url
    try:
        return [run_step(name, call, env, server) for name, call in STEPS]
    finally:
        if server is not None:
            from cdp import spark_server

            spark_server.stop(server.port, say=lambda _msg: None)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_jvm(memory: str, extra_conf: dict[str, str] | None = None):
    from cdp import spark_server

    started = time.perf_counter()
    state = spark_server.start(
        free_port(), memory=memory, say=lambda _msg: None, extra_conf=extra_conf
    )
    print(f"JVM Spark Connect server up in {time.perf_counter() - started:.0f} s at {state.url}")
    return state


def jvm_pid(server) -> int:
    from cdp import spark_server

    return spark_server.running_pid(server)


def reset_peak(pid: int) -> None:
    # "5" resets the process's VmHWM (peak resident set) to its current RSS (Linux >= 4.0).
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def peak_of(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run_step(name: str, call: str, env: dict, server) -> dict:
    """Seconds and peak MiB (step process, JVM) of one step in its own process."""
    pid = jvm_pid(server) if server is not None else None
    if pid:
        reset_peak(pid)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, call], env=env, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{name} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    peak = json.loads(done.stdout.strip().splitlines()[-1])["peak_mib"]
    jvm_peak = peak_of(pid) if pid else None
    print(f"  {name:8s} {seconds:7.1f} s  client {peak:6,.0f} MiB", end="", flush=True)
    print(f"  JVM {jvm_peak:6,.0f} MiB" if jvm_peak else "")
    return {"step": name, "seconds": seconds, "peak_mib": peak, "jvm_peak_mib": jvm_peak}


def print_table(results: dict[str, list[dict]]) -> None:
    engines = list(results)
    print("\n| step | " + " | ".join(f"{e} time | {e} peak RSS" for e in engines) + " |")
    print("|---" * (1 + 2 * len(engines)) + "|")
    for index, (name, _call) in enumerate(STEPS):
        cells = []
        for engine in engines:
            r = results[engine][index]
            memory = f"{r['peak_mib'] / 1024:.1f} GiB"
            if r["jvm_peak_mib"]:
                memory += f" + JVM {r['jvm_peak_mib'] / 1024:.1f} GiB"
            cells += [f"{r['seconds']:.1f} s", memory]
        print(f"| {name} | " + " | ".join(cells) + " |")
    totals = [f"{sum(r['seconds'] for r in results[e]):.1f} s | " for e in engines]
    print("| total | " + "| ".join(totals) + "|")  # a time, then an empty peak cell


def oneid_scaling(sizes: list[int], workspace: Path, args) -> None:
    """OneID's Spark engine on the JVM server per graph size: seconds, rounds, shuffle bytes."""
    from deltalake import write_deltalake
    from synthetic_graphs import synthetic_graph

    from cdp import spark_server
    from cdp.config import load_settings
    from cdp.lakehouse import Lakehouse
    from cdp.runtime import spark_session
    from identity.spark_engine import spark_components

    ui_port = free_port()
    # The monitoring REST API of the (otherwise disabled) UI, on loopback (SPARK_LOCAL_IP).
    server = start_jvm(args.jvm_memory, {"spark.ui.enabled": "true", "spark.ui.port": str(ui_port)})
    settings = load_settings(workspace=workspace / "oneid", spark_remote=server.url)
    try:
        with spark_session(settings) as spark:
            for n_edges in sizes:
                uri = str(workspace / f"edges_{n_edges}")
                write_deltalake(uri, synthetic_graph(n_edges, seed=args.seed), mode="overwrite")
                before = shuffle_bytes(ui_port)
                started = time.perf_counter()
                edges = spark.read.format("delta").load(uri)
                result = spark_components(spark, Lakehouse(settings.lakehouse_dir), edges)
                seconds = time.perf_counter() - started
                moved = shuffle_bytes(ui_port) - before
                print(
                    f"  {n_edges:>11,} edges  {seconds:7.1f} s  {result.rounds:2d} rounds  "
                    f"shuffle written {moved / 2**30:6.2f} GiB  "
                    f"JVM peak {peak_of(jvm_pid(server)) / 1024:4.1f} GiB",
                    flush=True,
                )
    finally:
        spark_server.stop(server.port, say=lambda _msg: None)


def shuffle_bytes(ui_port: int) -> int:
    """Bytes written by every shuffle of the server's application so far."""
    import urllib.request

    base = f"http://127.0.0.1:{ui_port}/api/v1/applications"
    with urllib.request.urlopen(base, timeout=120) as answer:
        app = json.load(answer)[0]["id"]
    with urllib.request.urlopen(f"{base}/{app}/stages", timeout=120) as answer:
        return sum(stage.get("shuffleWriteBytes", 0) for stage in json.load(answer))


if __name__ == "__main__":
    main()

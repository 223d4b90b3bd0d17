"""``make stress`` / ``python -m bench.stress [CHECK ...] [--store sqlite|postgres|all]
[--seconds N ...]``: runs the checks (all, or those named) on each store asked for, prints each
figure, writes them to bench/results.json (PostgreSQL's start with ``pg_``), and exits
non-zero listing every missed goal and failing case. On PostgreSQL the run starts its own
server (bench/pg.py) and each check gets a fresh database."""

from __future__ import annotations

import argparse
import signal
import sys
import time
import traceback
from collections.abc import Callable
from datetime import date
from types import FrameType

from bench import results
from bench.stress import bad_inputs, big_request, crash, load, merge, worker_resume
from bench.stress.options import Options
from bench.stress.outcome import Outcome, summary

# quick checks first: a quick look at a broken build fails early
CHECKS: dict[str, Callable[[Options], Outcome]] = {
    "merge": merge.run,
    "crash": crash.run,
    "bad_inputs": bad_inputs.run,
    "worker": worker_resume.run,
    "load": load.run,
    "big_request": big_request.run,
}


STORES = ("sqlite", "postgres")
PREFIX = {"sqlite": "", "postgres": "pg_"}


def _parse(argv: list[str]) -> tuple[list[str], list[Options], bool]:
    defaults = Options()
    parser = argparse.ArgumentParser(prog="python -m bench.stress", description=__doc__)
    parser.add_argument(
        "checks", nargs="*", metavar="CHECK", help=f"any of {', '.join(CHECKS)} (default: all)"
    )
    parser.add_argument("--seconds", type=float, default=defaults.seconds, help="load: duration")
    parser.add_argument("--clients", type=int, default=defaults.clients, help="load: clients")
    parser.add_argument(
        "--seed-memories",
        type=int,
        default=defaults.seed_memories,
        help="load: memories written beforehand",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=defaults.processes,
        help="load on SQLite: ogmem serve --processes (default 1)",
    )
    parser.add_argument("--trials", type=int, default=defaults.trials, help="crash: trials")
    parser.add_argument(
        "--store",
        choices=(*STORES, "all"),
        default="sqlite",
        help="where the checks' stores live (all: SQLite, then PostgreSQL)",
    )
    parser.add_argument("--keep", action="store_true", help="keep each check's store and logs")
    parser.add_argument("--no-record", action="store_true", help="do not write results.json")
    args = parser.parse_args(argv)
    unknown = [name for name in args.checks if name not in CHECKS]
    if unknown:
        parser.error(f"unknown check(s) {', '.join(unknown)}; choose from {', '.join(CHECKS)}")
    stores = STORES if args.store == "all" else (args.store,)
    options = [
        Options(
            seconds=args.seconds,
            clients=args.clients,
            seed_memories=args.seed_memories,
            processes=args.processes,
            trials=args.trials,
            keep=args.keep,
            store=store,
        )
        for store in stores
    ]
    return args.checks or list(CHECKS), options, not args.no_record


def _run(name: str, options: Options) -> Outcome:
    prefix = PREFIX[options.store]
    print(f"{prefix}{name}:", flush=True)
    started = time.monotonic()
    try:
        outcome = CHECKS[name](options)
    except Exception:  # a check that breaks is reported with the others, not the end of the run
        outcome = Outcome(name, failures=[f"the check itself failed:\n{traceback.format_exc()}"])
    for figure, value in outcome.figures.items():
        print(f"  {prefix + figure:40s} {value:12.3f}", flush=True)
    for failure in outcome.failures:
        print(f"  FAIL {failure}", flush=True)
    for note in outcome.notes:
        print("  " + note.replace("\n", "\n    "), flush=True)
    verdict = "ok" if outcome.ok() else f"{len(outcome.missed())} goal(s) missed"
    print(f"  -> {verdict} ({time.monotonic() - started:.0f} s)", flush=True)
    return outcome


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # a SystemExit unwinds through every check's finally: no server is left running
    raise SystemExit(128 + signum)


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    names, every_options, record = _parse(argv)
    print(f"ogmem stress, {date.today().isoformat()}, {results.machine()}", flush=True)
    figures: dict[str, float] = {}
    problems: list[str] = []
    for options in every_options:
        print(f"store: {options.store}", flush=True)
        found, missed = summary([_run(name, options) for name in names])
        prefix = PREFIX[options.store]
        figures.update({prefix + name: value for name, value in found.items()})
        problems += [f"[{options.store}] {problem}" for problem in missed]
    if record:
        results.record(figures)
        print(f"figures written to {results.RESULTS_FILE}")
    if problems:
        print(f"\n{len(problems)} problem(s):")
        for problem in problems:
            print(f"  - {problem.splitlines()[0]}")
        return 1
    print("\nevery goal met")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

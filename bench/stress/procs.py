"""The processes under test: ``ogmem serve`` / ``ogmem worker`` / ``ogmem keys`` as an operator
starts them (the venv's interpreter, a fresh store named by OGMEM_STORE, a free loopback port),
their memory (/proc), and a clean stop whatever happens to the check."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

# the same entry point as the `ogmem` script, without depending on where the venv put it
OGMEM = (sys.executable, "-c", "from ogmem.cli import main; main()")
REPO = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 120.0  # a cold MiniLM load on a busy 2-core machine takes a while


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment(store: str | Path, *, embedder: str = "minilm", **extra: str) -> dict[str, str]:
    """The caller's environment without any OGMEM_* setting of the developer's, plus ours."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OGMEM_")}
    # child processes run bench modules too (-m bench.stress...): the repo must be importable
    path = os.pathsep.join(p for p in (str(REPO), clean.get("PYTHONPATH", "")) if p)
    return {
        **clean,
        "PYTHONPATH": path,
        "OGMEM_STORE": str(store),
        "OGMEM_EMBEDDER": embedder,
        **extra,
    }


def create_key(env: dict[str, str], account: str) -> str:
    """``ogmem keys create --account``: the key is the last line of its output."""
    done = subprocess.run(
        [*OGMEM, "keys", "create", "--account", account],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"keys create failed: {done.stderr.strip()}")
    return done.stdout.strip().splitlines()[-1]


def _stat_fields(pid: int) -> list[str]:
    """/proc/PID/stat after the command name: state is [0], the parent's pid [1], utime and
    stime [11] and [12]."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def family(pid: int) -> list[int]:
    """A live process and its descendants (``ogmem serve --processes N``'s children)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents.setdefault(int(_stat_fields(int(entry.name))[1]), []).append(
                    int(entry.name)
                )
            except (OSError, IndexError):  # gone meanwhile
                continue
    found, todo = [], [pid]
    while todo:
        found.append(todo.pop())
        todo += parents.get(found[-1], [])
    return found


def memory_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) in MB of a live process, summed with its descendants', from
    /proc/PID/status (pages the processes share are counted in each)."""
    values = {"VmRSS": 0.0, "VmHWM": 0.0}
    for member in family(pid):
        for line in Path(f"/proc/{member}/status").read_text().splitlines():
            name, _, rest = line.partition(":")
            if name in values:
                values[name] += int(rest.split()[0]) / 1024  # reported in kB
    return values["VmRSS"], values["VmHWM"]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process and its descendants (all their threads)."""
    ticks = 0
    for member in family(pid):
        fields = _stat_fields(member)
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


@dataclass
class Process:
    """A child process whose output goes to a log file (read back when something fails)."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill9(self) -> None:
        if self.alive():
            self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=30)

    def stop(self, grace_s: float = 30.0) -> int | None:
        """SIGTERM, then SIGKILL after ``grace_s``; returns the exit code."""
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                self.kill9()
        return self.popen.returncode

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def tracebacks(self, limit: int = 5) -> list[str]:
        return tracebacks(self.log_text(), limit)


def tracebacks(log: str, limit: int = 5) -> list[str]:
    """The distinct errors in a log: for each, the frames in ogmem's own code and the
    exception line (the framework frames around them say nothing new)."""
    found: dict[str, str] = {}
    lines = log.splitlines()
    for index, line in enumerate(lines):
        if not line.startswith("Traceback"):
            continue
        end = index + 1
        while end < len(lines) and lines[end].startswith((" ", "\t")):
            end += 1
        if end >= len(lines):
            break
        frames = [
            f"{lines[i].strip()} | {lines[i + 1].strip()}"
            for i in range(index + 1, end - 1)
            if lines[i].lstrip().startswith('File "') and _own_code(lines[i])
        ]
        found.setdefault(lines[end], "\n".join([*frames, lines[end]]))
    return list(found.values())[-limit:]


def _own_code(frame: str) -> bool:
    return "/ogmem/" in frame and "site-packages" not in frame


def spawn(name: str, args: Sequence[str], env: dict[str, str], log: Path) -> Process:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        popen = subprocess.Popen(
            list(args), env=env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO
        )
    return Process(name, popen, log)


def start_server(
    env: dict[str, str],
    log: Path,
    *,
    port: int | None = None,
    no_worker: bool = False,
    processes: int = 1,
) -> Process:
    """``ogmem serve`` on a loopback port, returned once /healthz answers."""
    port = port or free_port()
    args = [*OGMEM, "serve", "--host", "127.0.0.1", "--port", str(port)]
    args += ["--processes", str(processes)]
    server = spawn("ogmem serve", [*args, *(["--no-worker"] if no_worker else [])], env, log)
    server.extra["base"] = f"http://127.0.0.1:{port}"
    wait_healthy(server)
    return server


def wait_healthy(server: Process, timeout_s: float = READY_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not server.alive():
            raise RuntimeError(f"{server.name} exited: {server.log_text()[-2000:]}")
        try:
            if httpx.get(server.extra["base"] + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.kill9()
    raise RuntimeError(f"{server.name} did not answer /healthz in {timeout_s:.0f} s")


def start_worker(env: dict[str, str], log: Path) -> Process:
    return spawn("ogmem worker", [*OGMEM, "worker"], env, log)


@contextmanager
def stopped_at_exit(*processes: Process) -> Iterator[list[Process]]:
    """Processes (more may be appended to the yielded list) stopped when the block ends,
    whether the check passed, failed or was interrupted."""
    started = list(processes)
    try:
        yield started
    finally:
        for process in started:
            process.stop()


class MemoryCap:
    """Watches a process's peak memory from a thread and kills it past ``cap_mb``: the
    machine is shared, and a server far past its goal proves no more by taking it all."""

    def __init__(self, process: Process, cap_mb: float, every_s: float = 0.2) -> None:
        self.process, self.cap_mb, self.every_s = process, cap_mb, every_s
        self.peak_mb = 0.0
        self.tripped = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> MemoryCap:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._stop.is_set() and self.process.alive():
            try:
                self.peak_mb = max(self.peak_mb, memory_mb(self.process.pid)[1])
            except OSError:  # it exited between the check and the read
                return
            if self.peak_mb > self.cap_mb:
                self.tripped = True
                self.process.kill9()
                return
            self._stop.wait(self.every_s)

"""The README's examples run as written, against a fresh data directory, twice in a row.

The extraction rule (the README states it too): a fenced block whose info string is `sh` or
`python` runs; `sh server` is a long-running server, started in the background; any other
block (`sh no-run`, `text`, untagged) is not run. All running blocks go, in README order,
into one bash script (`set -euo pipefail`), so a variable a block exports (`KEY`) reaches
the blocks after it; a `python` block runs as `python - <<EOF`. The only change made to the
text: the port 8765 becomes a free port. After each `sh server` block the script waits for
the server's /readyz. The script runs in a new directory (its working directory) with
OGMEM_DATA_DIR pointing into it, then once more in the same place: an example must not fail
on data the first run left. An `{"error": ...}` answer printed by any block fails the test.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).parents[1]
README_PORT = "8765"
_FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Block:
    language: str
    flags: frozenset[str]
    code: str


def readme_blocks(text: str) -> list[Block]:
    """Every fenced block: its language (the info string's first word), the other words."""
    blocks = []
    for info, code in _FENCE.findall(text):
        words = info.split()
        language = words[0] if words else ""
        blocks.append(Block(language, frozenset(words[1:]), code))
    return blocks


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_for(port: int) -> str:
    return (
        f"for _ in $(seq 1200); do curl -s -o /dev/null 127.0.0.1:{port}/readyz && break; "
        "sleep 0.1; done\n"
    )


def script(blocks: list[Block], port: int, logs: Path) -> str:
    """The bash script that runs the blocks (see the module docstring)."""
    lines = ["set -euo pipefail\n"]
    for number, block in enumerate(blocks):
        if block.language not in ("sh", "python") or "no-run" in block.flags:
            continue
        code = block.code.replace(README_PORT, str(port))
        if "server" in block.flags:
            lines.append(f"{{\n{code}}} > {logs / f'server-{number}.log'} 2>&1 &\n")
            lines.append(_wait_for(port))
        elif block.language == "python":
            lines.append(f"python - <<'README_PYTHON_BLOCK'\n{code}README_PYTHON_BLOCK\n")
        else:
            lines.append(code)
    return "".join(lines)


def _run(workdir: Path, blocks: list[Block], run: int) -> subprocess.CompletedProcess[str]:
    port = _free_port()
    text = script(blocks, port, workdir)
    bin_dir = str(Path(sys.executable).parent)  # the venv's ogmem and python come first
    env = {k: v for k, v in os.environ.items() if not k.startswith("OGMEM_")}
    env |= {"PATH": f"{bin_dir}:{env.get('PATH', '')}", "OGMEM_DATA_DIR": str(workdir / "data")}
    process = subprocess.Popen(
        ["bash", "-c", text], cwd=workdir, env=env, text=True, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        output, _ = process.communicate(timeout=600)
    finally:
        _stop_group(process.pid)  # the servers the script left running in the background
    return subprocess.CompletedProcess(process.args, process.returncode, output, f"run {run}")


def _stop_group(group: int) -> None:
    """SIGTERM to the script's process group (its servers stop gracefully), waited for;
    SIGKILL after 30 s."""
    for sig, wait in ((signal.SIGTERM, 30.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(group, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                os.killpg(group, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)


def test_the_extraction_rule_picks_the_tagged_blocks() -> None:
    text = "```sh\necho a\n```\n```sh server\nogmem serve --port 8765\n```\n" + (
        "```sh no-run\nmake test\n```\n```text\nno\n```\n```python\nprint(1)\n```\n"
    )
    made = script(readme_blocks(text), 9999, Path("/logs"))
    assert "echo a" in made and "ogmem serve --port 9999" in made and "print(1)" in made
    assert "make test" not in made and "no\n" not in made
    assert "/logs/server-1.log 2>&1 &" in made and "127.0.0.1:9999/readyz" in made


def test_the_readme_examples_run_verbatim_twice(tmp_path: Path) -> None:
    blocks = readme_blocks((ROOT / "README.md").read_text())
    kinds = {(b.language, "server" in b.flags) for b in blocks if "no-run" not in b.flags}
    assert {("sh", False), ("sh", True), ("python", False)} <= kinds
    for run in (1, 2):
        done = _run(tmp_path, blocks, run)
        logs = "".join(p.read_text() for p in sorted(tmp_path.glob("server-*.log")))
        assert done.returncode == 0, f"run {run}:\n{done.stdout}\nserver:\n{logs}"
        assert '{"error":' not in done.stdout, f"run {run}:\n{done.stdout}"

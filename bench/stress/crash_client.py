"""The writer of the crash check, in its own process: threads stream after_turn and memory
writes at the server until it dies, and log every acknowledged (2xx) write as a JSON line.

``python -m bench.stress.crash_client BASE KEY OUT TAG``
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import Any, TextIO

import httpx

THREADS = 4
USER = "u"


def _turn(http: httpx.Client, tag: str, thread: int, n: int) -> dict[str, Any] | None:
    session, message_id = f"{tag}-t{thread}", f"{tag}-t{thread}-m{n}"
    content = f"Turn {n} of writer {thread} in {tag}: I watered the ficus on the balcony."
    message = {"role": "user", "content": content, "message_id": message_id}
    body = {"session_id": session, "user_id": USER, "messages": [message]}
    answer = http.post("/api/v1/after_turn", json=body)
    if answer.status_code // 100 != 2:
        return {"kind": "refused", "status": answer.status_code, "body": answer.text[:300]}
    return {"kind": "turn", "session": session, "message_id": message_id, "content": content}


def _memory(http: httpx.Client, tag: str, thread: int, n: int) -> dict[str, Any] | None:
    content = f"Writer {thread} of {tag} noted fact number {n}: the ficus needs water weekly."
    memory = {
        "category": "preference",
        "routing_key": f"{tag}-t{thread}-k{n}",
        "abstract": f"Fact {n} of writer {thread}",
        "content": content,
    }
    answer = http.post("/api/v1/memories", json={"user_id": USER, "memories": [memory]})
    if answer.status_code // 100 != 2:
        return {"kind": "refused", "status": answer.status_code, "body": answer.text[:300]}
    result = answer.json()["results"][0]
    if result["status"] != "written":  # not an acknowledgement of this memory
        return {"kind": "refused", "status": answer.status_code, "body": json.dumps(result)}
    return {"kind": "memory", "uri": result["uri"], "content": content}


def _writer(base: str, key: str, tag: str, thread: int, out: TextIO, lock: threading.Lock) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
        n = 0
        while True:
            write = _turn if n % 2 == 0 else _memory
            try:
                record = write(http, tag, thread, n)
            except httpx.TransportError:
                return  # the server is gone: whatever was in flight was never acknowledged
            with lock:
                out.write(json.dumps(record) + "\n")
                out.flush()
            n += 1


def main(base: str, key: str, out_path: str, tag: str) -> None:
    lock = threading.Lock()
    with Path(out_path).open("w") as out:
        threads = [
            threading.Thread(target=_writer, args=(base, key, tag, n, out, lock))
            for n in range(THREADS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


if __name__ == "__main__":
    main(*sys.argv[1:5])

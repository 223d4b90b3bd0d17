"""``make stress``: checks that drive real ``ogmem serve`` / ``ogmem worker`` processes hard
from outside, on loopback, each with a fresh store; ``python -m bench.stress [CHECK ...]``."""

"""Dreaming: a per-user maintenance job that keeps memory true over time.

A run plans steps over a user's active memories, then applies each through the write
pipeline and records it, so that it can be undone later:

- consolidation (``consolidate``): near-duplicates of one owner and category, similar by
  embedding and by text, are merged into the oldest; the others are archived with a pointer
  to it (no LLM needed);
- correction (``correct``, with an LLM): contradicting memories; the older is superseded;
- patterns (``patterns``, with an LLM): repeated events or cases become a pattern memory
  citing them.

``Dreamer`` (``service``) runs it; the job goes through the outbox (a DREAM event per user),
started by ``ogmem dream``, ``POST /api/v1/dream`` or after enough new memories (``trigger``).
"""

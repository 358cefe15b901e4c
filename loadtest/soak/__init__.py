"""A soak test: minutes of mixed transports, reconnect storms and broadcasts, then invariants.

    python -m loadtest.soak --clients 300 --workers 2 --duration 10m --record

Starts Redis, ``--workers`` demo processes on the Redis bus and nginx balancing them
round-robin with no affinity (``--no-nginx``: the clients alternate between the
processes), as ``loadtest/stack.py`` does. Then, from this one asyncio process:

- ``--clients`` clients, split evenly over WebSocket, SSE and long-poll, each a tab of its
  own session following the named stream ``soak``. Each fires a reflex every ``--think``
  seconds (a page, selector or nothing morph; at most three unanswered) and records every
  answer by reflex id. Every ``--drop-every`` seconds it cuts its transport abruptly and
  resumes from its cursor, re-sending the reflexes not answered yet with their ids (the
  server runs an id once), as the browser client does; a transport that fails, or a
  reflex unanswered for ``--timeout`` seconds, makes it reconnect the same way.
- ``--storms`` times, half of the clients cut their transport at the same instant.
- A publisher broadcasts ``dispatch_event("soak", detail={"seq": n})`` on the stream
  every ``--interval`` seconds through the Redis bus and notes each one's position.

After ``--duration`` the clients stop firing, wait up to ``--drain`` for their last
answers and broadcasts, and the invariants are checked (``check`` and ``growth``):

- every reflex answered exactly once, by the answer its kind expects, no error, and no
  answer to a reflex the client never sent;
- each client got every broadcast published after it joined (a position above the one
  its first welcome gave), exactly once, in order; no ``resync``, no gap in the positions
  of any stream, nothing at or below the cursor delivered again;
- no growth from the end of the warm-up to the end of the load in the demo processes'
  RSS and asyncio tasks, nor in Redis keys other than reflex claims (a claim lives
  ``HISTORY_TTL``, 5 minutes, by design: one per reflex run); once the clients have left, no
  bus subscription left and tasks back to where they were before any came. Open files
  and threads are reported, not judged: the bus's Redis pool and the reflex threads grow
  to their caps under bursts and stay.

Asyncio tasks and bus subscriptions are counted by a probe, ``GET /__soak__``, which this
module's ``application`` puts in front of the demo (the servers run
``loadtest.soak:application``; everything else goes to ``demo.asgi``).

The Markdown summary goes to stdout and to ``loadtest/out/<timestamp>-soak/summary.md``
(beside the servers' logs, ``result.json`` and every client's record); ``--record`` also
writes it to ``loadtest/results/<date>-soak.md``. Exit status 1 when an invariant fails.
The run stops by itself: every wait has a timeout, and past its hard deadline a watchdog
says where the tasks wait, interrupts the run, and failing that kills the programs it
started (by pid) and exits.
"""

from loadtest.soak.probe import application

__all__ = ["application"]

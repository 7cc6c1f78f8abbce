"""Database work beside Python work, on one connection (PostgreSQL).

A batch step that reads or writes a large file spends its time in Python (parsing, formatting,
decrypting) while the database waits, then in the database (a large INSERT or UPDATE) while Python
waits: on a machine of two CPUs one of them idles all along. `Beside` hands the database's part,
a chunk at a time, to a worker thread that runs it on the *same* connection, so in the same
transaction (its writes are rolled back with everything else), while this thread goes on with the
next chunk of the file.

- One statement group at a time, in order: `run` waits for the previous group first.
- The connection is psycopg's, whose operations are serialised by its own lock: this thread may
  still use the connection meanwhile (a server-side cursor's next FETCH waits for the worker's
  statement to end); the worker uses a cursor of its own.
- Leaving the block waits for the last group and raises its error; leaving on an error of this
  thread waits for the worker too (nothing runs on the connection once the caller rolls back) and
  the caller's error wins.
- Only on PostgreSQL (`available()`): elsewhere callers do the same work in this thread."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from django.db import connection


def available() -> bool:
    return connection.vendor == "postgresql"


class Beside:
    """`with Beside("name") as beside: beside.run(fn, *args)` runs `fn(cursor, *args)` in the worker
    thread with a psycopg cursor of this thread's connection (see the module)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._pool: ThreadPoolExecutor | None = None
        self._pending: Future | None = None

    def __enter__(self) -> Beside:
        connection.ensure_connection()
        self._raw = connection.connection
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=self.name)
        return self

    def _call(self, fn: Callable[..., Any], args: tuple) -> Any:
        with self._raw.cursor() as cursor:
            return fn(cursor, *args)

    def run(self, fn: Callable[..., Any], *args: Any) -> None:
        self.wait()
        assert self._pool is not None, "Beside.run outside its block"
        self._pending = self._pool.submit(self._call, fn, args)

    def wait(self) -> None:
        """Wait for the group running in the worker; its error is raised here (as Django's)."""
        pending, self._pending = self._pending, None
        if pending is not None:
            with connection.wrap_database_errors:
                pending.result()

    def __exit__(self, kind, error, traceback) -> None:
        assert self._pool is not None
        try:
            if kind is None:
                self.wait()
        finally:
            self._pool.shutdown(wait=True)  # on an error here: the worker's statement ends first
            self._pool = None

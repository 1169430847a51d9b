"""Keys unique across processes and restarts, handed out from blocks reserved in the database."""

from __future__ import annotations

import threading

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from engine.store.schema import key_blocks

KEY_BLOCK = 200


class KeyAllocator:
    """Hands out keys from blocks reserved in the database, so keys stay unique across processes and restarts.

    Where the block is reserved depends on the database:

    - SQLite: inside the transaction that first needs a key. A writer holds
      the database lock for its whole transaction anyway, so this costs no
      concurrency; a block reserved by a transaction that rolls back is
      dropped (``discard``), since the reservation rolled back with it.
    - PostgreSQL: in a short transaction of its own, on a connection of its
      own, committed before the key is used. Reserving inside the command's
      transaction would hold the row lock on ``key_blocks`` until that
      commit: every other process needing a block would queue behind it, and
      a transaction that holds the block lock and then locks an instance row
      deadlocks with one that holds that instance and wants a block. It was
      also wrong for threads: a block reserved by one thread's transaction
      and used by another's was handed out again when the first rolled back.
      A reservation that commits while its command rolls back only leaves a
      gap. Rejected: a PostgreSQL sequence, which needs a second source of
      truth beside ``key_blocks`` and a fixed block size baked into its DDL.
    """

    def __init__(self, apart: Engine | None = None) -> None:
        self._apart = apart
        self._lock = threading.Lock()
        self._next = 0
        self._limit = 0

    def next_key(self, conn: Connection, reserved: list[bool]) -> int:
        with self._lock:
            if self._next >= self._limit:
                if self._apart is not None:
                    with self._apart.begin() as own:
                        self._limit = self._reserve(own)
                else:
                    self._limit = self._reserve(conn)
                    reserved.append(True)
                self._next = self._limit - KEY_BLOCK
            key = self._next
            self._next += 1
            return key

    @staticmethod
    def _reserve(conn: Connection) -> int:
        """Move the counter one block on; returns the end of the block reserved."""
        row = conn.execute(
            key_blocks.update()
            .where(key_blocks.c.name == "keys")
            .values(next_key=key_blocks.c.next_key + KEY_BLOCK)
            .returning(key_blocks.c.next_key)
        ).one()
        return int(row[0])

    def discard(self) -> None:
        with self._lock:
            self._next = self._limit

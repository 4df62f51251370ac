"""redis-py's asyncio connection, with its writes bounded by ``asyncio.timeout`` instead of ``asyncio.wait_for``.

redis-py 8.1 wraps every command's write in ``asyncio.wait_for(..., socket_timeout)`` (5 s by default). On
Python 3.11, ``wait_for`` loses a cancellation that arrives in the loop iteration where the write completes
(CPython gh-86296, fixed in 3.12, where ``wait_for`` became ``asyncio.timeout``): the cancelled task carries on
as if nothing had happened. Measured here: a task looping ``XREAD`` + ``MULTI`` on the real Redis, cancelled at a
random moment, ignored the cancel in 9 of 120 trials. In the api that hung a SIGTERM drain for good: the
``/live`` channel readers never stopped, so no client got its ``reconnect`` frame and the process never exited
(CI, ``test_graceful_stop``). ``asyncio.timeout`` on 3.11 tells its own expiry from a cancel from outside
(``Task.uncancel``), so a cancel always propagates. This is the method as redis-py has it, with that one
change; remove it when the project moves to Python 3.12.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from redis.asyncio import Connection as _Connection
from redis.exceptions import ConnectionError, TimeoutError


class Connection(_Connection):
    async def send_packed_command(self, command: bytes | str | Iterable[bytes], check_health: bool = True) -> None:
        if not self.is_connected:
            await self.connect_check_health(check_health=False)
        if check_health:
            await self.check_health()
        try:
            chunks = [command.encode()] if isinstance(command, str) else [command] if isinstance(
                command, bytes) else command
            async with asyncio.timeout(self.socket_timeout or None):
                await self._send_packed_command(chunks)
        except asyncio.TimeoutError:
            await self.disconnect(nowait=True)
            raise TimeoutError("Timeout writing to socket") from None
        except OSError as e:
            await self.disconnect(nowait=True)
            err_no, errmsg = ("UNKNOWN", e.args[0]) if len(e.args) == 1 else (e.args[0], e.args[1])
            raise ConnectionError(f"Error {err_no} while writing to socket. {errmsg}.") from e
        except BaseException:
            await self.disconnect(nowait=True)  # a write cut short leaves the stream unusable: drop it
            raise

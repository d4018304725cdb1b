"""Jupyter kernels for running notebooks from scripts and tests, without stalls.

:class:`PromptKernelManager` is a drop-in ``kernel_manager_class`` for nbclient (and
jupyter-cache): ``NotebookClient(nb, kernel_manager_class=PromptKernelManager, ...)``. It
differs from nbclient's default in two ways.

- **Replies are looked for every 0.1 s** (:class:`PromptChannel`). nbclient waits for a cell's
  reply with one poll as long as the cell timeout. The asyncio poll of pyzmq now and then misses
  the wake-up of a message that has already arrived, and only its final check at the timeout
  finds it: a cell that ran in a second then takes exactly the timeout, and the run goes on as
  if nothing happened. Seen here with one kernel (a student notebook in ``test_exercises.py``
  took the full 600 s) and with two (``make book``: a cell took exactly 300 s in 2 of 11 parallel
  builds). Reproduced on purpose: three kernels ran 400 small widget cells each with a 3 s
  timeout, and 13 of the 1,203 cells took exactly 3.00 s; with slices of 1 s none took more than
  1.03 s, and with 0.1 s slices none more than 0.9 s.
- **Each kernel talks over Unix sockets in a folder of its own**, removed at shutdown. With TCP,
  a kernel manager picks free ports by binding and releasing them and the kernel binds them a
  moment later, so two processes starting kernels together can be handed the same ports.

Used by ``scripts/execute_notebooks.py`` (``make book``) and ``tests/test_exercises.py``.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from queue import Empty

from jupyter_client import AsyncKernelClient, AsyncKernelManager
from jupyter_client.channels import AsyncZMQSocketChannel
from traitlets import Type, default

POLL_SLICE = 0.1  # seconds: the longest a reply or an output can wait unseen


class PromptChannel(AsyncZMQSocketChannel):
    """A kernel channel that looks at its socket at least every :data:`POLL_SLICE` seconds."""

    async def get_msg(self, timeout: float | None = None) -> dict:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = POLL_SLICE if deadline is None else deadline - time.monotonic()
            if await self.socket.poll(int(1000 * max(0.0, min(POLL_SLICE, left)))):
                return await self._recv()
            if deadline is not None and time.monotonic() >= deadline:
                raise Empty


class PromptClient(AsyncKernelClient):
    """nbclient's kernel client with :class:`PromptChannel` for replies and outputs."""

    shell_channel_class = Type(PromptChannel)
    iopub_channel_class = Type(PromptChannel)


class PromptKernelManager(AsyncKernelManager):
    """nbclient's kernel manager, with :class:`PromptClient` and IPC sockets of its own."""

    @default("transport")
    def _transport_default(self) -> str:
        return "ipc"

    @default("ip")
    def _ip_default(self) -> str:
        return str(Path(tempfile.mkdtemp(prefix="rnnbias-kernel-")) / "kernel")

    @default("client_factory")
    def _client_factory_default(self) -> type:
        return PromptClient

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            shutil.rmtree(Path(self.ip).parent, ignore_errors=True)

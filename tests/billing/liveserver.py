"""A live server (Django's LiveServerThread) that handles at most `slots` requests at a time and
queues the rest in a deep listen backlog: hundreds of concurrent deliveries then need at most
`slots` PostgreSQL connections (the local server allows 100, shared by every test run)."""

from __future__ import annotations

import contextlib
import threading

from django.core.servers.basehttp import ThreadedWSGIServer
from django.test.testcases import LiveServerThread, _StaticFilesHandler


class BoundedWSGIServer(ThreadedWSGIServer):
    request_queue_size = 1024
    slots = 24

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._free = threading.BoundedSemaphore(self.slots)

    def process_request(self, request, client_address):
        self._free.acquire()  # the accept loop waits; the kernel's backlog holds the callers
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._free.release()
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._free.release()


class BoundedLiveServerThread(LiveServerThread):
    server_class = BoundedWSGIServer


@contextlib.contextmanager
def bounded_live_server():
    thread = BoundedLiveServerThread("127.0.0.1", _StaticFilesHandler)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    try:
        yield f"http://127.0.0.1:{thread.port}"
    finally:
        thread.terminate()

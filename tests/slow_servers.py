"""Misbehaving servers for fault-injection tests: a registry that trickles its answer, and a
WSGI server with a fixed number of threads (like ``gunicorn --threads N``)."""

from __future__ import annotations

import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from werkzeug.serving import BaseWSGIServer


class TrickleServer:
    """Answers every request with ``200`` and a JSON body announced as ``length`` bytes, sent
    one byte every ``interval`` seconds (a registry that never quite stops answering)."""

    def __init__(self, *, interval: float = 0.5, length: int = 100_000) -> None:
        self.interval = interval
        self.length = length
        self.stopped = threading.Event()
        self.requests = 0
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.requests += 1
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            head = (
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                f"Content-Length: {self.length}\r\n\r\n"
            )
            try:
                conn.sendall(head.encode())
                for _ in range(self.length):
                    if self.stopped.wait(self.interval):
                        return
                    conn.sendall(b" ")
            except OSError:  # the client gave up: what the test wants
                return

    def close(self) -> None:
        self.stopped.set()
        self._sock.close()
        self._thread.join(timeout=2)


class PoolServer(BaseWSGIServer):
    """Werkzeug's WSGI server answering on ``threads`` worker threads, no more: a request that
    finds them all busy waits, as under ``gunicorn --worker-class gthread --threads N``."""

    def __init__(self, app: Any, *, threads: int) -> None:
        super().__init__("127.0.0.1", 0, app)
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="pool-server")
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    def process_request(self, request: Any, client_address: Any) -> None:
        self.pool.submit(self._work, request, client_address)

    def _work(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:  # pragma: no cover - shown like socketserver does
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"

    def __enter__(self) -> PoolServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.shutdown()
        self.server_close()
        self.pool.shutdown(wait=True, cancel_futures=True)

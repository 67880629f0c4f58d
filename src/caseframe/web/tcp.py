"""uvicorn's configuration for several workers, with TCP_NODELAY on the shared socket.

uvicorn's own `bind_socket` leaves the socket's protocol number at 0, so asyncio in the workers
does not set TCP_NODELAY on accepted connections, and every reply on a kept-alive connection
waits about 40 ms for the client's delayed ACK. The same socket, described as TCP, gets it.
A module of its own because the class must be importable by the worker processes (pickled).
"""

from __future__ import annotations

import socket

import uvicorn


class TcpConfig(uvicorn.Config):
    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.proto == 0:
            sock = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
            sock.set_inheritable(True)
        return sock

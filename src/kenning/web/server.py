"""The UI server: a Starlette app behind the `Guard`, served by uvicorn on a loopback socket.

The socket is bound before the app is built, so port 0 (any free port) works and the Host/Origin
rules know the real port. `UIServer` runs uvicorn on a background thread for tests and for
embedding; `kenning ui` runs it in the foreground.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import AsyncIterator, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from kenning.web.api import ROUTES, UIState
from kenning.web.security import Access, ASGIApp, Guard, new_token
from kenning.workspace import Workspace

HOST = "127.0.0.1"


def static_dir() -> Path:
    """The folder of the UI's HTML, CSS and JavaScript (shipped in the package)."""
    return Path(str(resources.files("kenning.web") / "static"))


async def _index(request: Request) -> Response:
    return FileResponse(static_dir() / "index.html", media_type="text/html; charset=utf-8")


def create_app(state: UIState, access: Access) -> ASGIApp:
    """The whole UI: pages, static files and the JSON API, guarded by `access`."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        state.close()

    app = Starlette(
        routes=[
            Route("/", _index),
            *ROUTES,
            Mount("/static", app=StaticFiles(directory=static_dir()), name="static"),
        ],
        lifespan=lifespan,
    )
    app.state.ui = state
    return Guard(app, access)


def bind(port: int = 0) -> socket.socket:
    """A listening TCP socket on 127.0.0.1 (`port` 0: any free port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError:
        sock.close()
        raise
    sock.listen(64)
    sock.set_inheritable(True)
    return sock


class UIServer:
    """One running UI server: its socket, token, state and uvicorn instance."""

    def __init__(
        self,
        workspace: Workspace,
        *,
        port: int = 0,
        token: str | None = None,
        bench_dirs: Sequence[Path] | None = None,
        embed: bool = True,
        refresh_seconds: float | None = 30.0,
    ) -> None:
        import uvicorn

        self.socket = bind(port)
        self.port: int = self.socket.getsockname()[1]
        self.access = Access(self.port, token or new_token())
        self.state = UIState(
            workspace, bench_dirs=bench_dirs, embed=embed, refresh_seconds=refresh_seconds
        )
        config = uvicorn.Config(
            create_app(self.state, self.access),
            log_level="warning",
            http="h11",
            ws="none",
            lifespan="on",
            access_log=False,
        )
        self.server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The login URL (with the token); open it once in a browser."""
        return self.access.url()

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def serve(self) -> None:
        """Serve in the foreground until interrupted."""
        try:
            self.server.run(sockets=[self.socket])
        finally:
            self.socket.close()

    def start(self, timeout: float = 10.0) -> UIServer:
        """Serve on a background thread; return once it accepts connections."""
        self._thread = threading.Thread(target=self.serve, name="kenning-ui-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the UI server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> UIServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

"""Serving a study: a threaded WSGI server (werkzeug) around :func:`bench.study.app.create_app`.

It binds 127.0.0.1 unless another host is asked for, and :func:`serve` prints where it listens and the
links. :func:`start_in_thread` runs the same server in a background thread (tests, the load test).
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path
from typing import Callable

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from bench.errors import StudyError
from bench.study.app import create_app
from bench.study.create import links
from bench.study.tokens import read_secrets


class _QuietHandler(WSGIRequestHandler):
    """No access log line per request (tests and the load test); errors are still logged."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def make_study_server(study_dir: str | Path, host: str = "127.0.0.1", port: int = 8000,
                      question: str | None = None, quiet: bool = False, synchronous: str = "FULL") -> BaseWSGIServer:
    """A threaded server for the study (``port=0`` picks a free port: read ``server.server_port``)."""
    app = create_app(study_dir, question=question, synchronous=synchronous)
    try:
        return make_server(host, port, app, threaded=True, request_handler=_QuietHandler if quiet else None)
    except OSError as exc:
        raise StudyError(f"cannot listen on {host}:{port} ({exc.strerror}); pick another --port, or 0 for any free one") from None


def start_in_thread(study_dir: str | Path, **kwargs) -> tuple[BaseWSGIServer, threading.Thread, str]:
    """Start :func:`make_study_server` (port 0 unless given) in a daemon thread; returns (server, thread, base URL).

    Stop it with ``server.shutdown()`` then ``server.app.extensions["motive_study"].store.close()``.
    """
    kwargs.setdefault("port", 0)
    kwargs.setdefault("quiet", True)
    server = make_study_server(study_dir, **kwargs)
    thread = threading.Thread(target=server.serve_forever, name="study-server", daemon=True)
    thread.start()
    return server, thread, f"http://{server.host}:{server.server_port}"


def serve(study_dir: str | Path, host: str = "127.0.0.1", port: int = 8000, question: str | None = None,
          echo: Callable[[str], None] = functools.partial(print, flush=True)) -> None:
    """Serve until interrupted, after printing the address, the bind scope and every link."""
    server = make_study_server(study_dir, host, port, question)
    import evaluators.preference  # noqa: F401  (pandas/scipy/statsmodels: load now, not on the first status poll)

    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    base = f"http://{shown}:{server.server_port}"
    scope = ("this machine only" if host in ("127.0.0.1", "localhost", "::1")
             else "ALL interfaces: anyone who can reach this machine and has a link can vote" if host in ("0.0.0.0", "::")
             else f"interface {host}")
    echo(f"Study server listening on {host}:{server.server_port} ({scope}). Ctrl-C stops it; nothing is lost.")
    for who, url in links(read_secrets(study_dir), base).items():
        echo(f"  {who:>12}: {url}")
    try:
        server.serve_forever()  # werkzeug's returns on Ctrl-C
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        server.app.extensions["motive_study"].store.close()
    echo("Stopped; every vote was committed as it came in.")

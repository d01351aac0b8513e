"""`kenning ui`: serve the local web UI (graph, memories, packet inspector, benchmarks)."""

from __future__ import annotations

import webbrowser

import click


@click.command()
@click.option("--port", default=8766, show_default=True, help="Port on 127.0.0.1 (0: any free).")
@click.option("--no-open", is_flag=True, help="Print the URL instead of opening a browser.")
@click.pass_context
def ui(ctx: click.Context, port: int, no_open: bool) -> None:
    """Open the local web UI: the graph, the memories, the packet inspector, benchmarks.

    It listens on 127.0.0.1 only. The URL carries a one-time token (a new one each run): only
    this browser, given that URL, gets in.

    Example: kenning ui --no-open --port 8766
    """
    from kenning.web.server import UIServer
    from kenning.workspace import Workspace

    workspace = Workspace.open(ctx.obj["dir"])
    try:
        server = UIServer(workspace, port=port)
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on 127.0.0.1:{port} ({exc.strerror}); pick another with --port, "
            "or --port 0 for any free one"
        ) from None
    click.echo(f"kenning ui for {workspace.root}")
    click.echo(f"  {server.url}")
    click.echo("  (the token in this URL is the key; Ctrl+C stops the server)")
    if not no_open:
        webbrowser.open(server.url)
    server.serve()

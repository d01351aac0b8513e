"""The ``tidewater`` command: run the API or the worker, settle a day, manage tokens."""

from __future__ import annotations

from datetime import date, timedelta

import click

from tidewater import db
from tidewater.settings import get_settings


@click.group()
def main() -> None:
    """tidewater: invoicing and payments for Harbourline Freight."""


@main.command()
@click.option("--host", default="127.0.0.1")
@click.option("--port", type=int, default=None, help="Defaults to TIDEWATER_PORT (8000).")
def serve(host: str, port: int | None) -> None:
    """Run the HTTP API."""
    import uvicorn

    from tidewater.api.app import create_app

    uvicorn.run(create_app(), host=host, port=port or get_settings().port)


@main.command()
@click.option("--kind", "kinds", multiple=True, help="Only these job kinds (repeatable).")
def worker(kinds: tuple[str, ...]) -> None:
    """Run a job worker until interrupted."""
    from tidewater.jobs.worker import Worker

    Worker(list(kinds) or None).run_forever()


@main.command()
@click.option(
    "--date",
    "payout_date",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Payout date; defaults to yesterday.",
)
@click.option("--currency", default="EUR")
def settle(payout_date: object, currency: str) -> None:
    """Run the settlement run for one payout date."""
    from tidewater.payments.psp import PspClient
    from tidewater.payments.settlement import run_settlement

    day = payout_date.date() if payout_date else date.today() - timedelta(days=1)  # type: ignore[attr-defined]
    with db.connection() as conn:
        run = run_settlement(conn, PspClient(), day, currency)
    if run is None:
        click.echo(f"{day} already settled")
        return
    click.echo(
        f"settled {day}: gross {run.gross.cents}, fees {run.fees.cents}, "
        f"{len(run.discrepancies)} discrepancies"
    )


@main.command("create-token")
@click.argument("merchant_id", type=int)
@click.option("--scope", "scopes", multiple=True, default=("invoices:read",))
def create_token(merchant_id: int, scopes: tuple[str, ...]) -> None:
    """Issue an API token for a merchant (printed once)."""
    from tidewater.auth.tokens import issue_api_token

    with db.connection() as conn:
        token, record = issue_api_token(conn, merchant_id, scopes)
        conn.commit()
    click.echo(f"token {record.prefix} for merchant {merchant_id}: {token}")
    click.echo("Store it now; it cannot be shown again.")


@main.command()
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None)
def dunning(today: object) -> None:
    """Enqueue today's dunning reminders."""
    from tidewater.billing.dunning import run_dunning

    day = today.date() if today else date.today()  # type: ignore[attr-defined]
    with db.connection() as conn:
        count = run_dunning(conn, day)
        conn.commit()
    click.echo(f"enqueued {count} reminders")


if __name__ == "__main__":
    main()

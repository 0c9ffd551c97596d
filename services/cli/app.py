"""The ``ai-admin`` command: every subcommand, the options they share, and the one place errors become a line.

``make install`` writes ``.venv/bin/ai-admin``, which runs ``python -m services.cli``.
"""

from __future__ import annotations

from typing import Annotated, Any

import redis
import typer
from typer.core import TyperGroup

from services.cli import bookings, conversations, failed, messaging, pairing, status, visits
from services.cli.context import Target
from services.cli.errors import EXIT_PROBLEM, CliError


class ErrorsAsOneLine(TyperGroup):
    """A subcommand's CliError or Redis failure ends as one line on stderr and an exit code, not a traceback.

    Caught here, around the whole invocation, so subcommands raise instead of printing and exiting themselves.
    """

    def invoke(self, ctx: Any) -> Any:  # typer's vendored click Context, which typer does not export
        try:
            return super().invoke(ctx)
        except CliError as error:
            _fail(ctx, error.message, error.exit_code)
        except redis.RedisError as error:
            where = ctx.find_object(Target)
            url = where.settings.redis_url.rsplit("@", 1)[-1] if where is not None else "REDIS_URL"
            _fail(ctx, f"Redis at {url}: {error}", EXIT_PROBLEM)
        finally:
            where = ctx.find_object(Target)
            if where is not None:
                where.close()


def _fail(ctx: Any, message: str, code: int) -> None:
    typer.echo(f"ai-admin: {message}", err=True)
    ctx.exit(code)


app = typer.Typer(
    name="ai-admin",
    cls=ErrorsAsOneLine,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain click help: it rewraps paragraphs to the terminal, and a pipe or a 3 a.m. ssh gets no box drawing.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def root(
    ctx: typer.Context,
    api_url: Annotated[
        str | None,
        typer.Option(help="the api, e.g. http://10.0.0.5:3000 [default: http://API_HOST:API_PORT]", show_default=False),
    ] = None,
    gateway_url: Annotated[
        str | None,
        typer.Option(help="the wa-gateway [default: http://WA_GATEWAY_HOST:WA_GATEWAY_PORT]", show_default=False),
    ] = None,
) -> None:
    """Operate the AI Admin stack: its health, WhatsApp pairing, chats, sends and failed jobs.

    Settings come from the environment and .env (API_KEY, API_HOST/API_PORT, WA_GATEWAY_HOST/WA_GATEWAY_PORT,
    REDIS_URL, COMPANY_ID), as the services read them. Exit codes: 0 fine, 1 something is wrong with the
    stack, 2 bad arguments or configuration.
    """
    ctx.obj = Target(api_url_override=api_url, gateway_url_override=gateway_url)


app.command()(status.status)
app.command()(messaging.chat)
app.command()(messaging.send)
app.command()(pairing.pair)
app.command()(pairing.reconnect)
app.command()(conversations.conversations)
app.command()(conversations.takeover)
app.command()(conversations.release)
app.command()(conversations.forget)
app.command()(bookings.bookings)
app.add_typer(failed.app, name="failed")
app.add_typer(visits.app, name="visits")


def main() -> None:
    app(prog_name="ai-admin")

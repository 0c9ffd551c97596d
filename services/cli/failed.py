"""``ai-admin failed list|requeue|purge``: RQ's failed registry of the company's queue, read and changed in Redis.

A failed flush job is a chat whose batch was not answered: a permanent error, or retries spent. Its batch
stays in ``batch:inflight`` until answered, so a requeued job answers the same messages with the same
idempotency keys; nothing is sent twice. Purging gives up on those chats for good.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.queue import Queue
from rq.registry import FailedJobRegistry

from services.cli.context import target
from services.cli.errors import EXIT_USAGE, CliError
from services.cli.output import echo_json, local_time_ago, one_line, table
from shared.queueing import inbound_queue

app = typer.Typer(
    help="Failed flush jobs: list, requeue, purge.\n\nRQ's failed registry of the company's queue, read from Redis.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

JobIds = Annotated[
    list[str] | None,
    typer.Argument(metavar="[JOB_ID]...", help="job ids from 'ai-admin failed list'", show_default=False),
]
All = Annotated[bool, typer.Option("--all", help="every failed job of the queue")]


def _registry(ctx: typer.Context) -> tuple[Queue, FailedJobRegistry]:
    where = target(ctx)
    queue = inbound_queue(where.redis(), where.company_id)
    return queue, queue.failed_job_registry


def _chosen(registry: FailedJobRegistry, job_ids: list[str] | None, every: bool) -> list[str]:
    if every and job_ids:
        raise CliError("give job ids or --all, not both", EXIT_USAGE)
    if every:
        found: list[str] = registry.get_job_ids()
        return found
    if not job_ids:
        raise CliError("which jobs? give their ids (ai-admin failed list) or --all", EXIT_USAGE)
    return job_ids


def describe(job: Job | None, job_id: str) -> dict[str, Any]:
    """What an operator needs about one failed job: which chat, when, and the error's last line."""
    if job is None:
        return {"id": job_id, "chat": None, "failedAt": None, "error": "(the job's data has expired)"}
    result = job.latest_result()
    exc = (result.exc_string if result is not None else None) or ""
    lines = [line for line in exc.strip().splitlines() if line.strip()]
    args = list(job.args or [])
    return {
        "id": job.id,
        "chat": str(args[1]) if len(args) > 1 else None,
        "failedAt": int(job.ended_at.timestamp() * 1000) if job.ended_at else None,
        "error": lines[-1] if lines else "(no error recorded)",
        "description": job.description,
    }


@app.command("list")
def list_failed(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per job, with the full error line")] = False,
) -> None:
    """Failed jobs: id, chat, when and why.

    Oldest first: the job id, the chat it was answering, when it failed and the error's last line.
    """
    queue, registry = _registry(ctx)
    job_ids: list[str] = registry.get_job_ids()
    jobs = Job.fetch_many(job_ids, connection=queue.connection, serializer=queue.serializer) if job_ids else []
    described = [describe(job, job_id) for job, job_id in zip(jobs, job_ids, strict=True)]
    if as_json:
        echo_json({"queue": queue.name, "failed": described})
        return
    if not described:
        typer.echo(f"no failed jobs on {queue.name}")
        return
    rows = [
        [item["id"], item["chat"] or "-", local_time_ago(item["failedAt"]), one_line(item["error"], 100)]
        for item in described
    ]
    typer.echo(table(["JOB", "CHAT", "FAILED", "ERROR"], rows))
    typer.echo(f"\n{len(described)} failed on {queue.name}: ai-admin failed requeue JOB... (or --all), or purge")


@app.command()
def requeue(ctx: typer.Context, job_ids: JobIds = None, every: All = False) -> None:
    """Put failed jobs back on the queue.

    The worker answers their chats' waiting batches again, with the same idempotency keys.
    Fix the cause first (ai-admin status): a job that fails the same way lands here again.
    """
    _, registry = _registry(ctx)
    done, missing = [], []
    for job_id in _chosen(registry, job_ids, every):
        try:
            registry.requeue(job_id)
            done.append(job_id)
        except (InvalidJobOperation, NoSuchJobError):
            missing.append(job_id)
    _report("requeued", done, missing)


@app.command()
def purge(ctx: typer.Context, job_ids: JobIds = None, every: All = False) -> None:
    """Delete failed jobs for good.

    Their chats' unanswered messages will not be answered by the AI.
    """
    _, registry = _registry(ctx)
    done, missing = [], []
    chosen = _chosen(registry, job_ids, every)
    wanted = set(registry.get_job_ids())
    for job_id in chosen:
        if job_id not in wanted:
            missing.append(job_id)
            continue
        registry.remove(job_id, delete_job=True)
        done.append(job_id)
    _report("deleted", done, missing)


def _report(verb: str, done: list[str], missing: list[str]) -> None:
    if done:
        typer.echo(f"{verb} {len(done)}: {' '.join(done)}")
    elif not missing:
        typer.echo(f"no failed jobs; nothing {verb}")
    if missing:
        raise CliError(f"not in the failed registry: {' '.join(missing)} (ai-admin failed list)")

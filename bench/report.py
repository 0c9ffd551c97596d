"""The report: bench/reports/<name>.md for people and <name>.json for tools, from the sections the runner got."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.common import Figure, Section

REPORTS = Path(__file__).parent / "reports"


def _number(value: float | None) -> str:
    if value is None:
        return "–"
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:,.0f}".replace(",", " ")
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"


def _result(figure: Figure) -> str:
    if figure.passed is None:
        return "–" if figure.target is None else "not measured"
    return "pass" if figure.passed else "**FAIL**"


def _row(figure: Figure) -> str:
    baseline = f"{_number(figure.baseline)} ({figure.baseline_text})" if figure.baseline is not None else "–"
    value = f"{_number(figure.value)} {figure.unit}" if figure.value is not None else "not measured"
    compared = f" (share {figure.compared:.2f})" if figure.compared is not None else ""
    ratio = "–" if figure.ratio is None else f"{figure.ratio:.3f}" if figure.ratio < 10 else f"{figure.ratio:.1f}"
    note = f" ({figure.note})" if figure.note else ""
    return (
        f"| {figure.name}{note} | {value}{compared} | {baseline} | {figure.target_text or '–'} | {ratio} |"
        f" {_result(figure)} |"
    )


TABLE_HEAD = "| figure | value | baseline | target | ratio to target | result |\n|---|---|---|---|---|---|"


def _number_of(section: Section) -> int:
    """Sections in the order of their numbers (1. Webhook ingest...), whatever order they ran in."""
    head = section.title.split(".", 1)[0]
    return int(head) if head.isdigit() else 99


def render(meta: dict[str, Any], sections: list[Section]) -> str:
    machine, versions = meta["machine"], meta["versions"]
    lines = [
        "# Benchmark report (`make bench`)",
        "",
        f"- **Date**: {meta['date']} ({meta['mode']} run, {meta['seconds']:.0f} s)",
        f"- **Machine**: {machine['cpu']}, {machine['cores']} cores, {machine['memory_mb']} MB memory,"
        f" Linux {machine['kernel']}; load average {machine['load_average']} at the start,"
        f" {meta['load_average_after']} at the end (other work on the machine makes the numbers noisy)",
        "- **Versions**: " + ", ".join(f"{name} {value}" for name, value in versions.items() if value),
        "- **Redis**: its own redis-server with appendonly yes, appendfsync always (as `make run` configures"
        " the local one); the Redis memory figures use a second one without persistence",
        "- **Settings**: the shipped defaults; a section names what it changes (BATCH_IDLE_SECONDS=0 for the"
        " pipeline and worker runs, the fake LLM for the worker run)",
        "",
        "Ratio to target: the value (or the share of the baseline) divided by the target; at most 1 meets a ≤ target,"
        " at least 1 a ≥ target.",
        "",
        "## Summary",
        "",
        TABLE_HEAD,
    ]
    sections = sorted(sections, key=_number_of)
    for section in sections:
        lines.extend(_row(figure) for figure in section.figures if figure.summary)
    failed = [figure.name for section in sections for figure in section.figures if figure.passed is False]
    errors = [section for section in sections if section.error]
    lines.append("")
    if failed:
        lines.append("Targets not met: " + "; ".join(failed) + ". The sections below have the numbers behind them.")
    else:
        lines.append("Every target measured was met.")
    for section in errors:
        lines.append(f"\n**{section.title} did not complete**: {section.error}")
    for section in sections:
        lines += ["", f"## {section.title}", "", f"Took {section.seconds:.0f} s."]
        if section.error:
            lines += ["", f"Error: `{section.error}`"]
        if section.figures:
            lines += ["", TABLE_HEAD, *(_row(figure) for figure in section.figures)]
        for paragraph in section.text:
            lines += ["", paragraph]
    return "\n".join(lines) + "\n"


def write(name: str, meta: dict[str, Any], sections: list[Section]) -> Path:
    REPORTS.mkdir(exist_ok=True)
    data = {
        **meta,
        "sections": {
            section.key: {
                "title": section.title,
                "seconds": section.seconds,
                "error": section.error or None,
                "figures": [figure.as_json() for figure in section.figures],
                "details": section.details,
            }
            for section in sections
        },
    }
    (REPORTS / f"{name}.json").write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    markdown = REPORTS / f"{name}.md"
    markdown.write_text(render(meta, sections))
    return markdown

"""The benchmark harness' own logic (``make bench``): how a figure meets its target, how the report reads, how
keys are grouped and audited, the hops read from logs, and the bare endpoint. Nothing here measures or times."""

from __future__ import annotations

import json
from pathlib import Path

import redis
from fastapi.testclient import TestClient

from bench.bare_ingest import create_app
from bench.common import Figure, Section, percentiles
from bench.latency import hops
from bench.redis_memory import audit, client_specific, pattern
from bench.report import render
from shared import redis_keys
from shared.wire import WEBHOOK_PATH


def test_a_figure_meets_an_at_most_target_up_to_it_and_an_at_least_target_from_it() -> None:
    assert Figure("p50", 25.0, "ms", 25.0, "<=").passed is True
    assert Figure("p50", 25.1, "ms", 25.0, "<=").passed is False
    assert Figure("turns", 6.39, "turns/s", 6.4, ">=").passed is False
    assert Figure("turns", 6.4, "turns/s", 6.4, ">=").passed is True
    assert Figure("p50", None, "ms", 25.0, "<=").passed is None
    assert Figure("bytes", 900.0, "B").passed is None


def test_a_share_of_the_baseline_is_what_the_target_and_the_ratio_are_about() -> None:
    figure = Figure("ingest", 2800.0, "msg/s", 0.5, ">=", baseline=7000.0, compared=0.4)
    assert figure.passed is False
    assert figure.ratio is not None and abs(figure.ratio - 0.8) < 1e-9


def test_percentiles_of_one_sample_and_of_many() -> None:
    assert percentiles([5.0])["p99"] == 5.0
    stats = percentiles([float(value) for value in range(1, 101)])
    assert 50 <= stats["p50"] <= 51
    assert stats["max"] == 100


def test_the_report_lists_targets_in_measurement_order_and_says_which_were_not_met() -> None:
    later = Section("turns", "7. Turns", [Figure("turn p95", 40.0, "ms", 30.0, "<=", "≤ 30 ms")])
    first = Section("ingest", "1. Ingest", [Figure("ingest", 10.0, "msg/s", note="no target", summary=False)])
    meta = {
        "date": "2026-11-23 18:00 UTC",
        "mode": "quick",
        "seconds": 12.0,
        "machine": {"cpu": "CPU", "cores": 2, "memory_mb": 1024, "kernel": "6", "load_average": [0.1, 0.1, 0.1]},
        "load_average_after": [0.2, 0.2, 0.2],
        "versions": {"python": "3.11", "wrk": None},
    }
    text = render(meta, [later, first])
    assert text.index("## 1. Ingest") < text.index("## 7. Turns")
    summary = text.split("## Summary", 1)[1].split("## 1.", 1)[0]
    assert "turn p95" in summary and "**FAIL**" in summary
    assert "| ingest" not in summary
    assert "Targets not met: turn p95" in text
    assert "wrk" not in text.split("**Versions**", 1)[1].splitlines()[0]


def test_key_patterns_tell_a_clients_keys_from_a_companys() -> None:
    company, phone = "962302", "79001234567"
    for key in (
        redis_keys.seen(company, "3EB0A1B2C3D4E5F60718"),
        redis_keys.buffer(company, phone),
        redis_keys.dialog(company, phone),
        redis_keys.preferences(company, phone),
        redis_keys.turn_ledger(company, "0123456789abcdef01234567"),
        "rq:job:flush-149fdfb024471a42c07f-1795457791576-250ebb",
    ):
        assert client_specific(pattern(key)), key
    for key in (redis_keys.gateway_lease(company), redis_keys.alert_state(company), "rq:worker:" + "ab" * 16):
        assert not client_specific(pattern(key)), key
    assert pattern(redis_keys.dialog(company, phone)) == pattern(redis_keys.dialog(company, "79007654321"))


def test_the_audit_counts_keys_by_pattern_and_those_without_a_ttl(redis_client: redis.Redis) -> None:
    redis_client.set(redis_keys.client("962302", "79001234567"), "{}", ex=600)
    redis_client.set(redis_keys.client("962302", "79001234568"), "{}")
    kinds = audit(redis_client)
    [(name, kind)] = kinds.items()
    assert name == "ai-admin:client:<n>:whatsapp:<n>"
    assert kind["keys"] == 2 and kind["no_ttl"] == 1
    assert kind["ttl_max"] is not None and 0 < kind["ttl_max"] <= 600
    assert kind["bytes"] > 0


def test_hops_are_the_medians_between_the_services_log_lines_and_the_reply(tmp_path: Path) -> None:
    lines: dict[str, list[tuple[str, str | list[str], float]]] = {
        "wa-gateway": [("New message from", "M1", 100.010), ("New message from", "M2", 200.020)],
        "api": [
            ("Message queued for the worker", "M1", 100.020),
            ("Message queued for the worker", ["M0", "M2"], 200.040),
        ],
        "worker": [("Processing message", "M1", 100.050), ("Processing message", "M2", 200.060)],
    }
    for service, records in lines.items():
        with (tmp_path / f"{service}.json.log").open("w") as log:
            for event, message_id, at in records:
                stamp = f"1970-01-01T00:{int(at) // 60:02d}:{at % 60:09.6f}Z"
                # The api names one message (message_id) and lists several (message_ids): both count.
                named = {"message_ids": message_id} if isinstance(message_id, list) else {"message_id": message_id}
                log.write(json.dumps({"event": event, **named, "timestamp": stamp}) + "\n")
            log.write("not json\n")
    sent = {"7900": 100.0, "7901": 200.0}
    replies = {"7900": 100.070, "7901": 200.100}
    result = hops(tmp_path, {"M1": "7900", "M2": "7901"}, sent, replies)
    assert [round(hop["p50_ms"]) for hop in result] == [15, 15, 25, 30]


def test_the_bare_endpoint_stores_each_message_once(redis_url: str, redis_client: redis.Redis) -> None:
    body = {
        "companyId": "962302",
        "messages": [
            {"from": f"7955000000{index}", "message": "Здравствуйте", "messageId": f"X{index}"} for index in range(3)
        ],
    }
    with TestClient(create_app(redis_url)) as client:
        first = client.post(WEBHOOK_PATH, json=body).json()
        again = client.post(WEBHOOK_PATH, json=body).json()
    assert (first["addedCount"], again["addedCount"], again["duplicateCount"]) == (3, 0, 3)
    assert redis_client.zcard("bare:due:962302") == 3
    assert redis_client.llen("bare:buffer:962302:79550000000") == 2  # no dedupe of its own: only SET NX's verdict

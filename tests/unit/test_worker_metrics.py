"""A worker round reports each job's counts, failures and duration, and when it finished."""

from __future__ import annotations

from collections.abc import Mapping

from payments.adapters.metrics import ServiceMetrics
from payments.entrypoints.cli.worker import WorkerJob, run_round


def _broken() -> Mapping[str, int]:
    raise RuntimeError("the provider is down")


def test_a_round_counts_what_each_job_did_and_which_failed() -> None:
    metrics = ServiceMetrics()
    jobs = [
        WorkerJob("reconciliation", lambda: {"settled": 2, "expired": 0}),
        WorkerJob("retrying notifications", _broken),
        WorkerJob("publishing the outbox", lambda: {"published": 5}),
    ]

    run_round(jobs, metrics)
    done = run_round(jobs, metrics)

    sample = metrics.registry.get_sample_value
    assert done == {"settled": 2, "expired": 0, "published": 5}
    items = "payments_worker_job_items_total"
    assert sample(items, {"job": "reconciliation", "label": "settled"}) == 4
    assert sample(items, {"job": "reconciliation", "label": "expired"}) is None
    assert sample(items, {"job": "publishing the outbox", "label": "published"}) == 10
    failures = "payments_worker_job_failures_total"
    assert sample(failures, {"job": "retrying notifications"}) == 2
    assert sample(failures, {"job": "reconciliation"}) is None
    durations = "payments_worker_job_duration_seconds_count"
    assert sample(durations, {"job": "retrying notifications"}) == 2
    finished = sample("payments_worker_last_round_timestamp_seconds")
    assert finished is not None and finished > 0

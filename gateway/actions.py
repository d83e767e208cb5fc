"""Operators' actions on quarantine cases, retry and discard: one code path for the command line
and the console, each recorded in the ledger with who asked and why.

The service owns processing. An action is recorded first (ledger/actions.py); then, when no
service holds the state root, the one that asked takes the root's lock and performs it (and any
still waiting) at once; while a service runs, the action is left `requested` and the service
performs it on its next round (`perform_pending`), so a file is never processed by two
processes at once. A retry runs today's pipeline on the kept original as a new attempt linked
to the old one; a discard closes the case for good.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import structlog

from gateway import quarantine, resources, rootlock
from gateway.config import Config, load
from gateway.errors import ConfigError, FileVanished, TransientError
from gateway.ledger.actions import ActionRow
from gateway.ledger.sqlite import Ledger
from gateway.ledger.states import DeliveryState, FileState
from gateway.pipeline import pairs
from gateway.pipeline.claim import claim
from gateway.pipeline.process import Pipeline

log = structlog.get_logger("gateway")

RETRY, DISCARD = "retry", "discard"
KINDS = (RETRY, DISCARD)
DOING = {RETRY: "retrying", DISCARD: "discarding"}

#: Shows the progress of a long run of actions (a bar on a terminal): items, their count, what.
Progress = Callable[[list[ActionRow], int, str], Iterable[ActionRow]]


@dataclass(frozen=True)
class Result:
    """What came of one action on one case: `state` is the case's outcome (None: there was no
    such case; "": postponed; "requested": handed to the running service)."""

    case: str
    text: str
    state: str | None

    @property
    def refused(self) -> bool:
        """The case is still (or again) in quarantine, or was never there."""
        return self.state in (None, FileState.QUARANTINED, DeliveryState.REFUSED)


def cases(config: Config, ids: list[str]) -> list[str]:
    """The cases `ids` name: an accepted file's id names all its pair cases."""
    pairs_of: dict[str, list[str]] = {}
    for entry in quarantine.entries(config):
        if entry.target is not None:
            pairs_of.setdefault(entry.file_id, []).append(entry.case)
    return [case for i in ids for case in pairs_of.get(i, [i])]


def ask(
    config: Config, ledger: Ledger, action: str, ids: list[str], who: str, reason: str,
    progress: Progress | None = None,
) -> list[Result]:
    """Record `action` on every case `ids` name, then perform it now or hand it to the service."""
    if action not in KINDS:
        raise ValueError(f"no action {action!r}")
    waiting = {e.case for e in quarantine.entries(config)}
    results: dict[int, Result] = {}
    missing = []
    for case in cases(config, ids):
        if case in waiting:
            results[ledger.request_action(case, action, who, reason)] = Result(
                case, f"{case}: {action} handed to the running service", "requested"
            )
        else:
            missing.append(Result(case, f"{case} is not in quarantine", None))
    with rootlock.attempt(config.state_dir, f"gateway {action} by {who}") as held:
        if held:
            done = perform_pending(config, ledger, progress, DOING[action])
            results.update({seq: result for seq, result in done.items() if seq in results})
    return [*missing, *results.values()]


def perform_pending(
    config: Config, ledger: Ledger, progress: Progress | None = None, doing: str = "performing"
) -> dict[int, Result]:
    """Perform every action waiting in the ledger, oldest first (the caller holds the root).

    A retry promises today's schemas and configuration: the configuration file is read again
    (a running service read it when it started, before the operator fixed the value map), and
    a configuration that no longer loads fails the actions with its problems; the schema files
    are read again too."""
    pending = ledger.pending_actions()
    if not pending:
        return {}
    resources.forget()
    try:
        today = config if config.file_path is None else load(config.file_path, config.state_dir)
    except ConfigError as exc:
        for row in pending:
            ledger.finish_action(row.seq, ok=False, result="the configuration: " + "; ".join(exc.problems))
        return {row.seq: Result(row.case_id, "the configuration has problems", None) for row in pending}
    pipeline = Pipeline(today, ledger)
    done = {}
    for row in progress(pending, len(pending), doing) if progress else pending:
        result = perform(pipeline, row.action, row.case_id, row.reason)
        log.info("operator_action", action=row.action, case=row.case_id, who=row.who, result=result.text)
        ledger.finish_action(row.seq, ok=result.state is not None, result=result.text)
        done[row.seq] = result
    return done


def perform(pipeline: Pipeline, action: str, case: str, reason: str) -> Result:
    """Do one action on one case now."""
    file_id, target = quarantine.split_case(case)
    if action == DISCARD:
        try:
            quarantine.discard(pipeline.config, pipeline.ledger, case, reason)
        except KeyError:
            return Result(case, f"{case} is not in quarantine", None)
        return Result(case, f"{case}: discarded", FileState.DISCARDED)
    if target is None:
        return _retry_file(pipeline, file_id)
    return _retry_pair(pipeline, file_id, target)


def _retry_pair(pipeline: Pipeline, file_id: str, target: str) -> Result:
    case = f"{file_id}/{target}"
    try:
        outcome = pairs.retry(pipeline, file_id, target)
    except KeyError:
        return Result(case, f"{case} is not in quarantine", None)
    except TransientError as exc:
        return Result(case, f"{case}: retried: postponed ({exc})", "")
    return Result(case, f"{case}: retried: {outcome.state}", outcome.state)


def _retry_file(pipeline: Pipeline, old: str) -> Result:
    config, ledger = pipeline.config, pipeline.ledger
    try:
        row, original = quarantine.take_original(config, ledger, old)
        stat = original.stat()
        new = claim(ledger, config.folder("work"), row.source, original, stat.st_size,
                    stat.st_mtime_ns, name=row.original_name, retry_of=old)  # fmt: skip
    except (KeyError, FileVanished, FileNotFoundError):
        return Result(old, f"{old} is not in quarantine", None)
    quarantine.close_retried(config, ledger, old, new.file_id)
    try:
        outcome = pipeline.process(new.file_id)
    except TransientError as exc:
        return Result(old, f"{old}: retried as {new.file_id}: postponed ({exc})", "")
    refused = f" (refused by {', '.join(outcome.refused)})" if outcome.refused else ""
    return Result(old, f"{old}: retried as {new.file_id}: {outcome.state}{refused}", outcome.state)

"""The console's pages: each reads the ledger and the quarantine folders and renders a template.

No part of a request names a file: a case or file id is checked for its shape and then looked
up in the quarantine's own listing or the ledger, and the file shown is the one they name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from gateway import actions, quarantine, quarantine_query, rootlock
from gateway.config import Config
from gateway.console import original
from gateway.console.security import Guard
from gateway.ledger import engines
from gateway.ledger.protocol import FileRow, Ledger
from gateway.ledger.states import DeliveryState

FILE_ID = re.compile(r"\d{8}T\d{6}-[0-9a-f]{12}")
TARGET = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
LATEST = 50


class Pages:
    """The page handlers of one console, over one configuration. The pages that only read are
    plain functions (Starlette runs them in its thread pool: the ledger and the folders block);
    those that read a form wait for it, then do their work in the pool too."""

    def __init__(self, config: Config, guard: Guard) -> None:
        self.config = config
        self.guard = guard
        self.templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
        self.templates.env.filters["age"] = age
        # Paths in the state root are shown from it (archive/…, outbound/…), as operators know them.
        self.templates.env.filters["in_root"] = lambda text: str(text).replace(f"{config.state_dir}/", "")

    @contextmanager
    def ledger(self) -> Iterator[Ledger]:
        """The ledger, for one request."""
        ledger = engines.open_ledger(self.config)
        try:
            yield ledger
        finally:
            ledger.close()

    def render(self, request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
        """A page, with what every page shows."""
        context.update(csrf=self.guard.csrf(request), service=rootlock.holder(self.config.state_dir),
                       path=request.url.path)  # fmt: skip
        context.setdefault("operator", request.cookies.get("gateway_operator", ""))
        return self.templates.TemplateResponse(request, name, context, status_code=status_code)

    def metrics(self, request: Request) -> Response:
        """Prometheus's page, the same as `metrics_listen` serves (metrics.py)."""
        from gateway import metrics

        with self.ledger() as ledger:
            body, content_type = metrics.exposition(self.config, ledger, request.headers.get("accept", ""))
        return Response(body, headers={"Content-Type": content_type})

    def home(self, request: Request) -> Response:
        """`/`: the inbox is the start page."""
        return RedirectResponse("/quarantine", status_code=303)

    def inbox(self, request: Request) -> Response:
        """`/quarantine`: every case, filtered."""
        where = quarantine_query.Filter.from_params(request.query_params)
        with self.ledger() as ledger:
            every = quarantine_query.cases(self.config, ledger)
        shown = [c for c in every if where.matches(c)]
        choices = {
            "source": sorted({c.entry.source for c in every} | {s.name for s in self.config.sources}),
            "partner": sorted({c.partner for c in every if c.partner}),
            "code": sorted({c.entry.code for c in every if c.entry.code}),
            "stage": sorted({c.entry.stage for c in every}),
        }
        return self.render(request, "quarantine.html", cases=shown, total=len(every), where=where,
                           choices=choices)  # fmt: skip

    def _case_id(self, request: Request) -> tuple[str, str | None]:
        file_id = request.path_params["file_id"]
        target = request.path_params.get("target")
        if not FILE_ID.fullmatch(file_id) or (target is not None and not TARGET.fullmatch(target)):
            raise HTTPException(404, "no such case")
        return file_id, target

    def case(self, request: Request) -> Response:
        """`/cases/<file_id>[/<target>]`: one case, its original, report, timeline and actions."""
        file_id, target = self._case_id(request)
        name = file_id if target is None else f"{file_id}/{target}"
        entries = {e.case: e for e in quarantine.entries(self.config)}
        with self.ledger() as ledger:
            row = ledger.get(file_id)
            if name not in entries or row is None:
                if row is None:
                    raise HTTPException(404, "no such case")
                return RedirectResponse(f"/files/{file_id}", status_code=303)
            report = quarantine.show(self.config, name)
            shown = self._original(row, target, report)
            timeline = _timeline(ledger, row)
            deliveries = [d for d in ledger.deliveries(file_id=file_id) if target in (None, d.target)]
            keys = ledger.keys(file_id)
            history = ledger.actions(file_id)
        return self.render(request, "case.html", case=name, entry=entries[name], row=row, report=report,
                           original=shown, timeline=timeline, deliveries=deliveries, keys=keys,
                           actions=history, partner=quarantine_query.partner_of(keys))  # fmt: skip

    def _original(self, row: FileRow, target: str | None, report: dict[str, Any]) -> original.Original | None:
        """The file the case is about: kept in its quarantine folder, or (a pair's) archived."""
        if target is None:
            path = self.config.folder("quarantine") / row.file_id / row.original_name
        elif row.detail:
            path = Path(row.detail)
        else:
            return None
        # The ledger names it; still, nothing outside the state root is ever shown.
        if not path.resolve().is_relative_to(self.config.state_dir.resolve()) or not path.is_file():
            return None
        return original.read(path, report.get("format"), report.get("encoding"), report.get("errors", []))

    def files(self, request: Request) -> Response:
        """`/files?q=`: files by id, name, sha256 or business key; the latest without a query."""
        query = request.query_params.get("q", "").strip()
        with self.ledger() as ledger:
            rows = ledger.find(query) if query else ledger.latest(LATEST)
            found = [(row, ledger.deliveries(file_id=row.file_id), ledger.keys(row.file_id)) for row in rows]
        return self.render(request, "files.html", query=query, found=found)

    def file(self, request: Request) -> Response:
        """`/files/<file_id>`: a file's whole trace."""
        file_id = request.path_params["file_id"]
        if not FILE_ID.fullmatch(file_id):
            raise HTTPException(404, "no such file")
        with self.ledger() as ledger:
            row = ledger.get(file_id)
            if row is None:
                raise HTTPException(404, "no such file")
            timeline, deliveries = _timeline(ledger, row), ledger.deliveries(file_id=file_id)
            outputs, batched = ledger.outputs(file_id), ledger.file_batches(file_id)
            keys, history = ledger.keys(file_id), ledger.actions(file_id)
        cases = [e for e in quarantine.entries(self.config) if e.file_id == file_id]
        return self.render(request, "file.html", cases=cases, row=row, timeline=timeline,
                           deliveries=deliveries, outputs=outputs, batched=batched, keys=keys,
                           actions=history)  # fmt: skip

    def partners(self, request: Request) -> Response:
        """`/partners`: per source and per partner, the last file, last success and errors; the
        expected files of each source and the acknowledgements of what each partner was sent."""
        from gateway import expectations
        from gateway.cli import health

        with self.ledger() as ledger:
            polls = ledger.source_rows()
            by_source = {a.name: a for a in ledger.source_activity()}
            by_partner = ledger.partner_activity()
            acks = ledger.ack_summary()
            live = health.instances(ledger, self.config)
            at = datetime.now(UTC)
            expected = [expectations.check(rule, ledger, at) for rule in self.config.ops.expect]
        names = list(dict.fromkeys([*(s.name for s in self.config.sources), *by_source]))
        sources = [(name, polls.get(name, {}), by_source.get(name)) for name in names]
        return self.render(request, "partners.html", sources=sources, partners=by_partner,
                           acknowledgements=sorted(acks.items()), expected=expected,
                           instances=live)  # fmt: skip

    def targets(self, request: Request) -> Response:
        """`/targets`: per target its pending and failing deliveries, and postponed files."""
        from gateway.cli import report

        status = report.status(self.config)
        with self.ledger() as ledger:
            pending = ledger.deliveries(DeliveryState.WRITING, DeliveryState.PUBLISHING)
            refused = ledger.deliveries(DeliveryState.REFUSED)
        targets = []
        for target in self.config.targets:
            failing = [d for d in refused if d.target == target.name]
            last = failing[-1].findings[0].get("message") if failing and failing[-1].findings else None
            batches = next((b for b in status["batches"] if b["target"] == target.name), None)
            targets.append({
                "target": target,
                "pending": [d for d in pending if d.target == target.name],
                "failing": failing,
                "last_error": last,
                "batches": batches,
            })  # fmt: skip
        return self.render(request, "targets.html", targets=targets, postponed=status["postponed"])

    async def act(self, request: Request) -> Response:
        """`POST /actions`: retry or discard the cases named (or those a filter keeps), or with
        `dry_run` only say what would happen."""
        form = await self.guard.form(request)
        action, reason = str(form.get("action", "")), str(form.get("reason", "")).strip()
        operator = str(form.get("operator", "")).strip()[:100]
        problems = [
            *([] if action in actions.KINDS else ["choose retry or discard"]),
            *([] if reason else ["a reason is required: say why, for the ledger"]),
            *([] if operator else ["say who you are, for the ledger"]),
        ]
        waiting = {c.case: c for c in quarantine_query.cases(self.config, None)}
        if form.get("scope") == "filter":
            where = quarantine_query.Filter.from_params({k: str(v) for k, v in form.items()})
            with self.ledger() as ledger:
                names = [c.case for c in quarantine_query.select(self.config, ledger, where)]
        else:
            names = [str(n) for n in form.getlist("case") if str(n) in waiting]
        if not names:
            problems.append("no case in quarantine matches")
        if problems:
            return self.render(request, "actions.html", status_code=400, problems=problems, plan=[],
                               results=[], action=action, reason=reason, dry_run=True)  # fmt: skip
        dry_run = bool(form.get("dry_run"))
        plan = [(name, _would(action, waiting[name])) for name in names] if dry_run else []
        results: list[actions.Result] = []
        if not dry_run:
            results = await run_in_threadpool(self._ask, action, names, f"{operator} (console)", reason)
        response = self.render(request, "actions.html", problems=[], plan=plan, results=results,
                               action=action, reason=reason, dry_run=dry_run, operator=operator)  # fmt: skip
        response.set_cookie("gateway_operator", operator, httponly=True, samesite="strict")
        return response

    def _ask(self, action: str, names: list[str], who: str, reason: str) -> list[actions.Result]:
        with self.ledger() as ledger:
            return actions.ask(self.config, ledger, action, names, who, reason)

    async def login(self, request: Request) -> Response:
        """`/login`: the console token, when the console is bound off the loopback."""
        if request.method == "GET":
            return self.render(request, "login.html", failed=False)
        form = await self.guard.form(request)
        if self.guard.sign_in(request, str(form.get("token", ""))):
            return RedirectResponse("/quarantine", status_code=303)
        return self.render(request, "login.html", status_code=403, failed=True)


def _would(action: str, case: quarantine_query.Case) -> str:
    """What an action would do to a case, for the dry run."""
    entry = case.entry
    if action == actions.DISCARD:
        return f"close the case for good; its folder moves to archive/discarded/{entry.case}"
    if entry.target is None:
        return (f"read {entry.name} from {entry.source} again with today's configuration, as a new"
                f" attempt linked to {entry.file_id}")  # fmt: skip
    return f"write {entry.name} again for target {entry.target} alone, from the archived original"


def _timeline(ledger: Ledger, row: FileRow) -> list[dict[str, Any]]:
    """Every attempt's events, oldest attempt first: the chain of retries back to the first."""
    chain = [row]
    while chain[-1].retry_of and len(chain) < 100:
        earlier = ledger.get(chain[-1].retry_of)
        if earlier is None:
            break
        chain.append(earlier)
    events = [
        {"at": at, "file_id": attempt.file_id, "event": event, "detail": detail}
        for attempt in reversed(chain)
        for at, event, detail in ledger.events(attempt.file_id)
    ]
    return sorted(events, key=lambda e: e["at"])


def age(seconds: float) -> str:
    """A duration as a person says it: 40 s, 12 min, 5 h, 3 d."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit}"
    return f"{int(seconds)} s"

"""The `gateway` command line (design contract: commands, global options and exit codes).

Exit codes: 0 success; 1 invalid input or a failed check; 2 usage; 78 configuration error.
`--config` and `--root` are accepted before or after the command name.

Only the standard library is imported before a command runs, so `--help` and `--version`
answer at once; each command imports what it uses.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.errors import ConfigError, LedgerUnreachable

if TYPE_CHECKING:
    from gateway.config import Config, SourceConfig
    from gateway.ledger.sqlite import Ledger
    from gateway.pipeline.process import Pipeline

EX_OK, EX_INVALID, EX_USAGE, EX_CONFIG = 0, 1, 2, 78


def _global_options(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS lets the same option appear before or after the command without clobbering.
    parser.add_argument(
        "--config",
        type=Path,
        default=argparse.SUPPRESS,
        help="config file (default ./gateway.toml, else built-in defaults)",
    )
    parser.add_argument("--root", type=Path, default=argparse.SUPPRESS,
                        help="state directory (overrides state_dir)")  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every command."""
    common = argparse.ArgumentParser(add_help=False)
    _global_options(common)
    parser = argparse.ArgumentParser(prog="gateway", parents=[common],
                                     description="File-based EDI/CSV exchange gateway.")  # fmt: skip
    parser.add_argument("--version", action="version", version=f"gateway {version('gateway')}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, handler: Callable[..., int], help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, parents=[common], help=help_text)
        sub.set_defaults(handler=handler)
        return sub

    run = command("run", cmd_run, "run the service")
    run.add_argument("--once", action="store_true", help="drain every source, then exit")
    val = command("validate", cmd_validate, "check files without side effects")
    val.add_argument("files", nargs="+", type=Path, metavar="FILE")
    val.add_argument("--json", action="store_true")
    val.add_argument("--source", help="judge as if from this source (encoding, rules)")
    conv = command("convert", cmd_convert, "print canonical records or write a target's files")
    conv.add_argument("file", type=Path, metavar="FILE")
    conv.add_argument("--target", help="target name from the config")
    conv.add_argument("--out", type=Path, help="folder for the target's files")
    conv.add_argument("--source", help="judge as if from this source")
    q = command("quarantine", cmd_quarantine, "review and act on refused files")
    qs = q.add_subparsers(dest="action", required=True, metavar="ACTION")
    qs.add_parser("list", parents=[common]).add_argument("--json", action="store_true")
    qs.add_parser("show", parents=[common]).add_argument("file_id", metavar="ID")
    retry = qs.add_parser("retry", parents=[common])
    retry.add_argument("file_ids", nargs="*", metavar="ID", help="FILE_ID, or FILE_ID/TARGET for a pair")
    retry.add_argument("--all", action="store_true")
    discard = qs.add_parser("discard", parents=[common])
    discard.add_argument("file_id", metavar="ID")
    discard.add_argument("--reason", required=True)
    command("status", cmd_status, "sources, files by state, quarantine").add_argument(
        "--json", action="store_true"
    )
    command("trace", cmd_trace, "a file's whole timeline").add_argument("query")
    command("bench", cmd_bench, "measure throughput against the machine's floor").add_argument(
        "--json", action="store_true"
    )
    explain = command("explain", cmd_explain, "what a finding code means and what usually fixes it")
    explain.add_argument("code", nargs="?", metavar="CODE", help="a finding code; without one, every code")
    explain.set_defaults(needs_config=False)  # a broken gateway.toml must not stop the explanation
    led = command("ledger", cmd_ledger, "ledger tools")
    led.add_subparsers(dest="action", required=True, metavar="ACTION").add_parser(
        "migrate", parents=[common], help="create or upgrade the ledger's tables (versioned steps)"
    )
    cfg = command("config", cmd_config, "configuration tools")
    actions = cfg.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("check", parents=[common], help="check the configuration and every plugin option")
    actions.add_parser("schema", parents=[common], help="print the options of every plugin as JSON Schema")
    return parser


def load_config(args: argparse.Namespace) -> Config:
    """The configuration the global options name (its `schemas_dir` applies from now on)."""
    from gateway.config import load

    path: Path | None = getattr(args, "config", None)
    if path is None and Path("gateway.toml").is_file():
        path = Path("gateway.toml")
    return load(path, getattr(args, "root", None))


def cmd_run(args: argparse.Namespace, config: Config) -> int:
    """`gateway run [--once]`."""
    from contextlib import nullcontext

    from gateway import logging, rootlock
    from gateway.ledger.engines import open_ledger
    from gateway.service import Service

    logging.configure()
    for name in ("work", "quarantine", "archive"):
        config.folder(name).mkdir(parents=True, exist_ok=True)
    # On PostgreSQL, instances on one root share the work through the ledger instead.
    with nullcontext() if config.ledger else rootlock.hold(config.state_dir):
        ledger = open_ledger(config)
        try:
            return Service(config, ledger).run(once=args.once)
        finally:
            ledger.close()


def cmd_ledger(args: argparse.Namespace, config: Config) -> int:
    """`gateway ledger migrate`: create or upgrade the configured ledger's tables."""
    from gateway.ledger.engines import open_ledger

    ledger = open_ledger(config)
    try:
        found, latest = getattr(ledger, "found", None), getattr(ledger, "version", None)
    finally:
        ledger.close()
    if found is None or latest is None:
        print(f"{config.ledger_path}: up to date")
    else:
        parts = ", ".join(f"{part} {found.get(part, 0)} -> {v}" for part, v in latest.items())
        print(f"ledger schema: {parts}")
    return EX_OK


def _source(config: Config, args: argparse.Namespace) -> SourceConfig:
    if not args.source:
        return config.sources[0]
    try:
        return config.source(args.source)
    except ConfigError as exc:
        raise ConfigError([f"--source: {exc.problems[0]}"]) from None


def cmd_validate(args: argparse.Namespace, config: Config) -> int:
    """`gateway validate FILE... [--json]`."""
    from gateway import logging
    from gateway.cli import check

    logging.configure(sys.stderr)
    reports = [check.validate(path, config, _source(config, args)) for path in args.files]
    if args.json:
        print(json.dumps([r.to_dict() for r in reports], indent=2, ensure_ascii=False))
    else:
        for r in reports:
            if r.valid:
                print(f"{r.path}: ok ({r.format}, {r.encoding}, {r.records} document(s))")
            for finding in r.findings:
                print(finding.render(str(r.path)))
    return EX_OK if all(r.valid for r in reports) else EX_INVALID


def cmd_convert(args: argparse.Namespace, config: Config) -> int:
    """`gateway convert FILE [--target NAME] [--out DIR]`."""
    from gateway import logging
    from gateway.cli import check

    logging.configure(sys.stderr)
    source = _source(config, args)
    if args.target:
        if args.target not in {t.name for t in config.targets}:
            raise ConfigError([f"--target: no target named {args.target!r}"])
        result = check.convert_to_target(args.file, config, source, args.target, args.out or Path())
        for path in result.outputs:
            print(path)
    else:
        result = check.Report(args.file)
        for record in check.read(args.file, config, source, result):
            if result.valid:
                sys.stdout.write(record.to_json() + "\n")
    for finding in result.findings:
        print(finding.render(str(args.file)), file=sys.stderr)
    return EX_OK if result.valid else EX_INVALID


def cmd_quarantine(args: argparse.Namespace, config: Config) -> int:
    """`gateway quarantine list|show|retry|discard`."""
    from gateway import logging, quarantine
    from gateway.ledger.engines import open_ledger

    logging.configure(sys.stderr)
    if args.action == "list":
        entries = quarantine.entries(config)
        if args.json:
            print(json.dumps([e.__dict__ for e in entries], indent=2, ensure_ascii=False))
        for e in [] if args.json else entries:
            print(f"{e.case}  {e.source}  {e.stage:<8}  {e.errors:>4} error(s)  {e.first_error}")
        return EX_OK
    if args.action == "show":
        try:
            print(json.dumps(quarantine.show(config, args.file_id), indent=2, ensure_ascii=False))
        except KeyError:
            print(f"gateway: {args.file_id} is not in quarantine", file=sys.stderr)
            return EX_INVALID
        return EX_OK
    ledger = open_ledger(config)
    # On a shared ledger a retry is one more instance: the files it claims are its own, so
    # the running gateways leave them alone while it lives.
    ledger.join(config.lease_seconds)
    try:
        if args.action == "discard":
            try:
                quarantine.discard(config, ledger, args.file_id, args.reason)
            except KeyError:
                print(f"gateway: {args.file_id} is not in quarantine", file=sys.stderr)
                return EX_INVALID
            print(f"{args.file_id}: discarded")
            return EX_OK
        ids = [e.case for e in quarantine.entries(config)] if args.all else args.file_ids
        if not ids:
            print("gateway: name the files to retry, or --all", file=sys.stderr)
            return EX_USAGE
        return _retry(config, ledger, ids)
    finally:
        ledger.close()


def _retry(config: Config, ledger: Ledger, ids: list[str]) -> int:
    from gateway import quarantine
    from gateway.ledger.states import DeliveryState, FileState
    from gateway.pipeline.process import Pipeline

    pipeline = Pipeline(config, ledger)
    status = EX_OK
    # An accepted file's id names its pair cases, all of them.
    pairs: dict[str, list[str]] = {}
    for entry in quarantine.entries(config):
        if entry.target is not None:
            pairs.setdefault(entry.file_id, []).append(entry.case)
    for case in [c for i in ids for c in pairs.get(i, [i])]:
        file_id, target = quarantine.split_case(case)
        retried = _retry_file(pipeline, file_id) if target is None else _retry_pair(pipeline, file_id, target)
        if retried is None or retried in (FileState.QUARANTINED, DeliveryState.REFUSED):
            status = EX_INVALID
    return status


def _retry_pair(pipeline: Pipeline, file_id: str, target: str) -> str | None:
    from gateway.errors import TransientError
    from gateway.pipeline import pairs

    try:
        outcome = pairs.retry(pipeline, file_id, target)
    except KeyError:
        print(f"gateway: {file_id}/{target} is not in quarantine", file=sys.stderr)
        return None
    except TransientError as exc:
        print(f"{file_id}/{target}: retried: postponed ({exc})")
        return ""
    print(f"{file_id}/{target}: retried: {outcome.state}")
    return outcome.state


def _retry_file(pipeline: Pipeline, old: str) -> str | None:
    from gateway import quarantine
    from gateway.errors import FileVanished, TransientError
    from gateway.pipeline.claim import claim

    config, ledger = pipeline.config, pipeline.ledger
    try:
        row, original = quarantine.take_original(config, ledger, old)
        stat = original.stat()
        new = claim(ledger, config.folder("work"), row.source, original, stat.st_size,
                    stat.st_mtime_ns, name=row.original_name, retry_of=old)  # fmt: skip
    except (KeyError, FileVanished, FileNotFoundError):
        print(f"gateway: {old} is not in quarantine", file=sys.stderr)
        return None
    quarantine.close_retried(config, ledger, old, new.file_id)
    try:
        outcome = pipeline.process(new.file_id)
    except TransientError as exc:
        print(f"{old}: retried as {new.file_id}: postponed ({exc})")
        return ""
    refused = f" (refused by {', '.join(outcome.refused)})" if outcome.refused else ""
    print(f"{old}: retried as {new.file_id}: {outcome.state}{refused}")
    return outcome.state


def cmd_status(args: argparse.Namespace, config: Config) -> int:
    """`gateway status [--json]`."""
    from gateway.cli import report

    data = report.status(config)
    print(json.dumps(data, indent=2, ensure_ascii=False) if args.json else report.render_status(data))
    return EX_OK


def cmd_trace(args: argparse.Namespace, config: Config) -> int:
    """`gateway trace QUERY`."""
    from gateway.cli import report
    from gateway.ledger.engines import has_ledger, open_ledger

    if not has_ledger(config):
        print(f"gateway: nothing matches {args.query!r}", file=sys.stderr)
        return EX_INVALID
    ledger = open_ledger(config)
    try:
        text = report.trace(ledger, args.query)
    finally:
        ledger.close()
    if not text:
        print(f"gateway: nothing matches {args.query!r}", file=sys.stderr)
        return EX_INVALID
    print(text)
    return EX_OK


def cmd_bench(args: argparse.Namespace, config: Config) -> int:
    """`gateway bench [--json]`."""
    from benchmarks import render, run_all
    from gateway import logging

    logging.configure(sys.stderr, level="warning")
    results = run_all()
    print(json.dumps(results, indent=2) if args.json else render(results))
    return EX_OK


def cmd_config(args: argparse.Namespace, config: Config) -> int:
    """`gateway config check`: loading succeeded, so say what was loaded; `config schema`."""
    if args.action == "schema":
        from gateway.cli.schema import config_schema

        print(json.dumps(config_schema(), indent=2))
        return EX_OK
    where = config.file_path or "built-in defaults"
    print(f"{where}: ok: {len(config.sources)} source(s), {len(config.targets)} target(s),"
          f" {len(config.routes)} route(s); state in {config.state_dir}")  # fmt: skip
    return EX_OK


def cmd_explain(args: argparse.Namespace, config: Config | None) -> int:
    """`gateway explain [CODE]`."""
    from gateway.cli.explain import explain

    return explain(args)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = load_config(args) if getattr(args, "needs_config", True) else None
        code: int = args.handler(args, config)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"gateway: config: {problem}", file=sys.stderr)
        return EX_CONFIG
    except LedgerUnreachable as exc:
        print(f"gateway: {exc}", file=sys.stderr)
        return EX_INVALID
    except BrokenPipeError:
        return EX_OK
    return code


if __name__ == "__main__":
    sys.exit(main())

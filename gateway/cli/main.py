"""The `gateway` command line (design contract: commands, global options and exit codes).

Exit codes: 0 success; 1 invalid input or a failed check; 2 usage; 78 configuration error.
`--config` and `--root` are accepted before or after the command name. The configuration is
the first of: `--config FILE`, the `GATEWAY_CONFIG` variable, `./gateway.toml`,
`/etc/gateway/gateway.toml`; with none, the built-in defaults.

Only argparse is imported before a command runs, so `--help` and `--version` answer at once
(importlib.metadata only for `--version`); each command imports what it uses.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.cli import cases

if TYPE_CHECKING:
    from gateway.config import Config, SourceConfig

EX_OK, EX_INVALID, EX_USAGE, EX_CONFIG = 0, 1, 2, 78
#: Where a system-wide installation keeps its configuration (deploy/).
SYSTEM_CONFIG = Path("/etc/gateway/gateway.toml")


def _global_options(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS lets the same option appear before or after the command without clobbering.
    parser.add_argument(
        "--config",
        type=Path,
        default=argparse.SUPPRESS,
        help="config file (default $GATEWAY_CONFIG, ./gateway.toml, /etc/gateway/gateway.toml, else built-in"
        " defaults)",
    )
    parser.add_argument("--root", type=Path, default=argparse.SUPPRESS,
                        help="state directory (overrides state_dir)")  # fmt: skip


class _Version(argparse.Action):
    """`--version`, reading the installed metadata only when asked: importing
    importlib.metadata costs more than the rest of `--help`."""

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        from importlib.metadata import version

        print(f"gateway {version('gateway')}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every command."""
    common = argparse.ArgumentParser(add_help=False)
    _global_options(common)
    parser = argparse.ArgumentParser(prog="gateway", parents=[common],
                                     description="File-based EDI/CSV exchange gateway.")  # fmt: skip
    parser.add_argument("--version", action=_Version, nargs=0, help="show the version and exit")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, handler: Callable[..., int], help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, parents=[common], help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    def action(group: argparse._SubParsersAction[argparse.ArgumentParser], name: str,
               help_text: str) -> argparse.ArgumentParser:  # fmt: skip
        return group.add_parser(name, parents=[common], help=help_text, description=help_text)

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
    listing = action(qs, "list", "the cases waiting in quarantine, oldest first, filtered")
    listing.add_argument("--json", action="store_true", help="one JSON array, for scripts")
    cases.add_filters(listing)
    action(qs, "show", "the error report of one case").add_argument("file_id", metavar="ID")
    retry = action(qs, "retry", "run today's pipeline again on cases (named, filtered or --all)")
    retry.add_argument("ids", nargs="*", metavar="ID", help="FILE_ID, or FILE_ID/TARGET for a pair")
    retry.add_argument("--all", action="store_true", help="every case (with filters: every matching one)")
    retry.add_argument("--reason", help="why, for the ledger (who asked is recorded too)")
    cases.add_filters(retry)
    discard = action(qs, "discard", "close cases for good with a reason (named, filtered or --all)")
    discard.add_argument("ids", nargs="*", metavar="ID", help="FILE_ID, or FILE_ID/TARGET for a pair")
    discard.add_argument("--all", action="store_true", help="every case (with filters: every matching one)")
    discard.add_argument("--reason", required=True, help="why, kept in the ledger")
    discard.add_argument("--dry-run", action="store_true", help="say what would be discarded, change nothing")
    cases.add_filters(discard)
    command("status", cmd_status, "sources, files by state, quarantine").add_argument(
        "--json", action="store_true"
    )
    command("trace", cmd_trace, "a file's whole timeline").add_argument("query")
    console = command("console", cmd_console, "the operators' web console: quarantine, files, partners")
    console.add_argument("--host", default="127.0.0.1",
                         help="address to serve on (default 127.0.0.1; any other needs console_token)")
    console.add_argument("--port", type=int, default=8470, help="port (default 8470)")
    bench = command("bench", cmd_bench, "measure throughput against the machine's floor")
    bench.add_argument("--json", action="store_true")
    bench.add_argument("--bots-command", metavar="CMD",
                       help="an external reference (Bots) to time on the same files: a shell command"
                            " with {inbox} for the folder of input files"
                            " (default: $GATEWAY_BENCH_BOTS_COMMAND)")  # fmt: skip
    explain = command("explain", cmd_explain, "what a finding code means and what usually fixes it")
    explain.add_argument("code", nargs="?", metavar="CODE", help="a finding code; without one, every code")
    explain.set_defaults(needs_config=False)  # a broken gateway.toml must not stop the explanation
    led = command("ledger", cmd_ledger, "ledger tools")
    steps = led.add_subparsers(dest="action", required=True, metavar="ACTION")
    action(steps, "migrate", "create or upgrade the ledger's tables (versioned steps)")
    cfg = command("config", cmd_config, "configuration tools")
    actions = cfg.add_subparsers(dest="action", required=True, metavar="ACTION")
    action(actions, "check", "check the configuration and every plugin option")
    action(actions, "schema", "print the options of every plugin as JSON Schema")
    return parser


def load_config(args: argparse.Namespace) -> Config:
    """The configuration the global options name (its `schemas_dir` applies from now on)."""
    from gateway.config import load

    path: Path | None = getattr(args, "config", None)
    if path is None and os.environ.get("GATEWAY_CONFIG"):
        path = Path(os.environ["GATEWAY_CONFIG"])
    for default in (Path("gateway.toml"), SYSTEM_CONFIG):
        if path is None and default.is_file():
            path = default
    return load(path, getattr(args, "root", None))


def cmd_run(args: argparse.Namespace, config: Config) -> int:
    """`gateway run [--once]`."""
    from contextlib import nullcontext

    from gateway import logging, rootlock
    from gateway.service import Service, open_ledger

    logging.configure()
    # On PostgreSQL, instances on one root share the work through the ledger instead.
    with nullcontext() if config.ledger else rootlock.hold(config.state_dir):
        ledger = open_ledger(config, once=args.once)
        if ledger is None:
            print("gateway: the state root's filesystem stayed full; nothing was done", file=sys.stderr)
            return EX_INVALID
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
    from gateway.errors import ConfigError

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
                warned = f", {len(r.warnings)} warning(s)" if r.warnings else ""
                print(f"{r.path}: ok ({r.format}, {r.encoding}, {r.records} document(s){warned})")
            for finding in [*r.findings, *r.warnings]:
                print(finding.render(str(r.path)))
    return EX_OK if all(r.valid for r in reports) else EX_INVALID


def cmd_convert(args: argparse.Namespace, config: Config) -> int:
    """`gateway convert FILE [--target NAME] [--out DIR]`."""
    from gateway import logging
    from gateway.cli import check
    from gateway.errors import ConfigError

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

    logging.configure(sys.stderr)
    if args.action == "list":
        return cases.list_cases(config, args)
    if args.action == "show":
        try:
            print(json.dumps(quarantine.show(config, args.file_id), indent=2, ensure_ascii=False))
        except KeyError:
            print(f"gateway: {args.file_id} is not in quarantine", file=sys.stderr)
            return EX_INVALID
        return EX_OK
    ids = cases.chosen(config, args)
    if ids is None:
        print(f"gateway: name the cases to {args.action}, or choose them by filters or --all",
              file=sys.stderr)  # fmt: skip
        return EX_USAGE
    if getattr(args, "dry_run", False):
        return cases.dry_run(config, ids, args.reason)
    return _act(config, args.action, ids, args.reason or "retried from the command line")


def _act(config: Config, action: str, ids: list[str], reason: str) -> int:
    """Retry or discard through the same code as the console: done now, or handed to the
    running service (which owns processing)."""
    import getpass

    from gateway import actions
    from gateway.ledger.engines import open_ledger

    ledger = open_ledger(config)
    # On a shared ledger a retry is one more instance: the files it claims are its own, so
    # the running gateways leave them alone while it lives.
    ledger.join(config.lease_seconds)
    try:
        results = actions.ask(config, ledger, action, ids, getpass.getuser(), reason, cases.progress)
    finally:
        ledger.close()
    for result in results:
        if result.state is None:
            print(f"gateway: {result.text}", file=sys.stderr)
        else:
            print(result.text)
    return EX_INVALID if any(r.refused for r in results) else EX_OK


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


def cmd_console(args: argparse.Namespace, config: Config) -> int:
    """`gateway console [--host H] [--port N]`."""
    from gateway import logging
    from gateway.console.app import serve

    logging.configure(sys.stderr)
    print(f"gateway console on http://{args.host}:{args.port}/ (Ctrl-C stops it)", file=sys.stderr)
    serve(config, args.host, args.port)
    return EX_OK


def cmd_bench(args: argparse.Namespace, config: Config) -> int:
    """`gateway bench [--json] [--bots-command CMD]`."""
    from benchmarks import render, run_all
    from benchmarks.reference import ENVIRONMENT, Reference
    from gateway import logging

    command = args.bots_command or os.environ.get(ENVIRONMENT)
    try:
        reference = Reference(command) if command else None
    except ValueError as exc:
        print(f"gateway: bench: {exc}", file=sys.stderr)
        return EX_USAGE
    logging.configure(sys.stderr, level="warning")
    results = run_all(reference)
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
    from gateway.errors import ConfigError, LedgerUnreachable  # after the arguments: `--help` never needs it

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

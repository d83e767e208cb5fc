"""Which ledger a configuration names: SQLite in the state folder, or PostgreSQL by URL.

psycopg is imported only for a PostgreSQL ledger, so a gateway on SQLite does not need it
(it is the `postgresql` extra of the package).
"""

from __future__ import annotations

from gateway.config import Config
from gateway.errors import ConfigError
from gateway.ledger.protocol import Ledger
from gateway.ledger.sqlite import SqliteLedger


def open_ledger(config: Config) -> Ledger:
    """The configured ledger, created or upgraded to this gateway's schema."""
    if not config.ledger:
        return SqliteLedger(config.ledger_path)
    try:
        from gateway.ledger.postgres import PostgresLedger
    except ImportError:
        raise ConfigError([
            "ledger: a PostgreSQL ledger needs psycopg; install the gateway with its extra:"
            " pip install 'gateway[postgresql]'"
        ]) from None  # fmt: skip
    return PostgresLedger(config.ledger, config.ledger_password())


def has_ledger(config: Config) -> bool:
    """Whether there is a ledger to read (a SQLite one is created only by a command that writes)."""
    return bool(config.ledger) or config.ledger_path.exists()

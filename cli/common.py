"""What the commands share: the consoles, the common flags, and the settings they build once."""

from __future__ import annotations

import logging
import re
import sys
from typing import TYPE_CHECKING, NoReturn, Optional
from urllib.parse import urlsplit, urlunsplit

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from evalstream.config.settings import KafkaSettings, Settings

if TYPE_CHECKING:
    from evalstream.drift.policy import Policy
    from evalstream.scorers import ScorerSet

# Piped output (logs, CI) gets room for the tables instead of the 80 columns rich assumes.
console = Console(stderr=True, width=None if sys.stderr.isatty() else 130)
stdout = Console(width=None if sys.stdout.isatty() else 130)

Bootstrap: Optional[str] = typer.Option(None, "--bootstrap", help="Kafka bootstrap HOST:PORT \\[env EVALSTREAM_KAFKA_BOOTSTRAP]")
ClickHouseDsn: Optional[str] = typer.Option(
    None, "--clickhouse", help="chdb:///abs/dir or http(s)://user:pass@host:8123/db \\[env EVALSTREAM_CLICKHOUSE]"
)
LogLevel: str = typer.Option("info")

REACH_TIMEOUT_S = 6.0  # a reachability check answers well within the 10 s a person waits
verbose = False  # --verbose (cli/main.py): client libraries' logs at INFO, and tracebacks


def fail(message: str, code: int = 1) -> NoReturn:
    """One line on stderr (never wrapped), then exit non-zero."""
    typer.echo(f"evalstream: {message}", err=True)
    raise typer.Exit(code)


def require_kafka(kafka: KafkaSettings) -> None:
    """Exits with one line when the brokers cannot be reached, instead of librdkafka's retries."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    quiet = logging.getLogger("librdkafka")  # its connection errors are this line's, not the terminal's
    admin = AdminClient({**kafka.librdkafka(), "log_level": 7 if verbose else 0, "logger": quiet, "socket.connection.setup.timeout.ms": 5000})
    try:
        admin.list_topics(timeout=REACH_TIMEOUT_S)
    except KafkaException as exc:
        error = exc.args[0] if exc.args else None
        reason = error.str() if hasattr(error, "str") else str(exc)
        local = "start a local broker with infra/kafka/start.sh, or " if kafka.bootstrap.startswith(("127.", "localhost")) else ""
        fail(f"cannot reach Kafka at {kafka.bootstrap} ({reason}); {local}set --bootstrap or EVALSTREAM_KAFKA_BOOTSTRAP")


def require_clickhouse(dsn: str) -> None:
    """Exits with one line when the DSN is malformed or its server does not answer `SELECT 1`.

    A chdb DSN is checked for its form only: chdb opens one data directory per process, the
    command's own connection must be the first."""
    where = without_password(dsn)
    hint = "set --clickhouse or EVALSTREAM_CLICKHOUSE (chdb:///abs/dir, or http(s)://user@host:8123/db)"
    scheme = urlsplit(dsn).scheme
    if scheme == "chdb":
        if not dsn.startswith("chdb:///"):
            fail(f"the ClickHouse DSN {where} needs an absolute path, e.g. chdb:///var/lib/evalstream; {hint}", code=2)
        return
    if scheme not in ("http", "https", "clickhouse", "clickhouses"):
        fail(f"the ClickHouse DSN {where} has scheme {scheme or 'none'!r}, not chdb, http or https; {hint}", code=2)
    import clickhouse_connect

    for library in ("urllib3", "clickhouse_connect"):  # their retries' warnings say what this line says
        logging.getLogger(library).setLevel(logging.DEBUG if verbose else logging.ERROR)
    try:
        client = clickhouse_connect.get_client(dsn=dsn, connect_timeout=REACH_TIMEOUT_S / 2, send_receive_timeout=REACH_TIMEOUT_S)
        client.command("SELECT 1")
        client.close()
    except Exception as exc:
        fail(f"cannot reach ClickHouse at {where} ({_root_cause(exc)}); start ClickHouse or {hint}")


def _root_cause(exc: BaseException) -> str:
    """What went wrong in a few words: the driver wraps the socket's error in a long message quoting the URL."""
    text = str(exc)
    errno = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text)
    if errno:
        return errno.group(1).strip()
    if "timed out" in text.lower() or "timeout" in text.lower():
        return "timed out"
    first = text.strip().splitlines()[0][:160] if text.strip() else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def without_password(dsn: str) -> str:
    parts = urlsplit(dsn)
    if parts.password is None:
        return dsn
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def load_settings(*, bootstrap: str | None = None, clickhouse: str | None = None) -> Settings:
    """The settings of the environment, with the connection flags given on the command line on top;
    a setting that does not validate is named in one line (the variable or flag, and why)."""
    from pydantic import ValidationError

    try:
        return Settings().override("kafka", bootstrap=bootstrap).override("clickhouse", dsn=clickhouse)
    except ValidationError as exc:
        problems = "; ".join(f"{_variable(exc.title, e['loc'])}: {e['msg']}" for e in exc.errors())
        fail(f"a setting of {exc.title} is invalid: {problems} (see the README's settings)", code=2)


def _variable(section: str, loc: tuple) -> str:
    """The environment variable a field of a settings section is read from (its alias, else prefix + NAME)."""
    name = ".".join(str(part) for part in loc) or section
    for field in Settings.model_fields.values():
        cls = field.annotation
        if getattr(cls, "__name__", None) == section and name in cls.model_fields and not cls.model_fields[name].validation_alias:
            return f"{cls.model_config.get('env_prefix', '')}{name.upper()}"
    return name


def scorer_set(settings: Settings, policy: Policy | None = None) -> ScorerSet:
    """The workers' scorers, flagging at the thresholds the drift policy sets per use case
    (`policy`, else the file EVALSTREAM_DRIFT_POLICY names, else the shipped one)."""
    from evalstream.drift.policy import PolicyError, load_policy
    from evalstream.scorers.registry import default_scorers

    try:
        policy = policy or load_policy(settings.drift.policy)
    except PolicyError as exc:
        console.print(str(exc), style="red", markup=False, highlight=False)
        raise typer.Exit(2) from None
    return default_scorers(settings.scoring, **policy.flag_thresholds())


def progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=False
    )


def connect_clickhouse(dsn: str) -> object:
    """A client for the commands that read or migrate ClickHouse, or one line saying why there is none."""
    from evalstream.sinks import connect

    require_clickhouse(dsn)
    try:
        return connect(dsn)
    except Exception as exc:  # chdb: a directory it cannot open or create
        if verbose:
            raise
        reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        fail(f"cannot open ClickHouse at {without_password(dsn)} ({type(exc).__name__}: {reason}); set --clickhouse or EVALSTREAM_CLICKHOUSE")

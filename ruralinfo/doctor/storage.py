"""The database (reachable, its schema at the head of the migrations) and Redis."""
from __future__ import annotations

from pathlib import Path

from flask import current_app

from ruralinfo.doctor.findings import OK, PROBLEM, WARNING, Finding, check, count
from ruralinfo.doctor.web import mask

UPGRADE = "run `flask --app wsgi db upgrade`"


@check("database")
def check_database() -> Finding:
    """The database answers and its schema is at the head of the project's migrations."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    from ruralinfo.extensions import db

    where, path = mask(current_app.config["DATABASE_URL"]), db.engine.url.database
    if db.engine.url.get_backend_name() == "sqlite" and path not in (None, "", ":memory:") and not Path(path).exists():
        return Finding("database", PROBLEM, f"the database file {path} does not exist yet: {UPGRADE}.")
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = set(MigrationContext.configure(connection).get_current_heads())
    except SQLAlchemyError as err:
        return Finding("database", PROBLEM, f"the database at {where} does not answer ({_db_reason(err)}): "
                                            "start it, or correct DATABASE_URL.")
    script = ScriptDirectory(current_app.extensions["migrate"].directory)
    heads = set(script.get_heads())
    if current == heads:
        return Finding("database", OK, f"{where} answers; its schema is up to date.")
    if not current:
        return Finding("database", PROBLEM, f"the database at {where} has no tables yet: {UPGRADE}.")
    at, needs = ", ".join(sorted(current)), ", ".join(sorted(heads))
    if current - {revision.revision for revision in script.walk_revisions()}:
        return Finding("database", PROBLEM, f"the database's schema ({at}) is newer than this version of ruralinfo "
                                            "knows: run the version that upgraded it.")
    return Finding("database", PROBLEM, f"the database's schema is behind (it is at {at}, this version needs "
                                        f"{needs}): back the database up, then {UPGRADE}.")


def _db_reason(err) -> str:
    """The driver's first line (it names the host, never the password), else the error's type."""
    lines = str(getattr(err, "orig", None) or "").strip().splitlines()
    return lines[0] if lines else type(err).__name__


@check("redis")
def check_redis() -> Finding:
    """Redis answers when REDIS_URL is set, and a worker takes the jobs."""
    if not current_app.config.get("REDIS_URL"):
        return Finding("redis", OK, "not used (jobs run inline).")
    from redis.exceptions import RedisError
    from rq import Worker

    from ruralinfo import jobs

    where = jobs.redis_address()
    try:
        connection = jobs.redis_connection()
        connection.ping()
        workers = Worker.count(connection=connection)
    except RedisError as err:
        return Finding("redis", PROBLEM, f"Redis at {where} does not answer ({type(err).__name__}): start Redis, "
                                         "or correct REDIS_URL.")
    if not workers:
        return Finding("redis", WARNING, f"Redis at {where} answers, but no worker is running: background jobs wait "
                                         "until one runs; start `flask --app wsgi worker`.")
    return Finding("redis", OK, f"{where} answers; {count(workers, 'worker')} running.")

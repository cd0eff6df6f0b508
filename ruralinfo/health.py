"""``GET /healthz``: whether this instance can serve, for load balancers and monitoring.
No log-in, nothing secret: the database answers, Redis answers (when configured), the
SMS gateway is configured. 200 with ``"status": "ok"``, else 503 saying what failed."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from ruralinfo.extensions import db, limiter
from ruralinfo.sms import gateways

bp = Blueprint("health", __name__)
limiter.exempt(bp)
OK, FAILED, NOT_CONFIGURED = "ok", "failed", "not configured"


def _database() -> str:
    try:
        db.session.execute(text("SELECT 1"))
        return OK
    except Exception:  # noqa: BLE001 - any failure is "not reachable" here; the log has the details
        current_app.logger.exception("healthz: the database does not answer")
        db.session.rollback()
        return FAILED


def _redis() -> str:
    if not current_app.config.get("REDIS_URL"):
        return NOT_CONFIGURED
    from ruralinfo import jobs

    try:
        jobs.redis_connection().ping()
        return OK
    except Exception:  # noqa: BLE001
        current_app.logger.warning("healthz: Redis does not answer")
        return FAILED


def _gateway() -> str:
    try:
        gateways.current()
        return OK
    except Exception as err:  # noqa: BLE001 - a missing setting: the message names it, no secret
        current_app.logger.warning("healthz: the SMS gateway is not configured: %s", err)
        return FAILED


@bp.get("/healthz")
def healthz():
    checks = {"database": _database(), "redis": _redis(),
              "gateway": _gateway(), "sms_backend": current_app.config["SMS_BACKEND"]}
    healthy = FAILED not in checks.values()
    return jsonify({"status": OK if healthy else FAILED, "checks": checks}), 200 if healthy else 503

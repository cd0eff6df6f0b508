"""``GET /healthz``: no log-in; 200 when the database answers, Redis answers (when
configured) and the gateway is configured; 503 naming what failed, and nothing secret."""
from __future__ import annotations

from ruralinfo import create_app
from tests.conftest import BASE_CONFIG


def test_a_healthy_instance_answers_200_without_log_in(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "checks": {
        "database": "ok", "redis": "not configured", "gateway": "ok", "sms_backend": "outbox"}}


def test_a_gateway_without_its_settings_is_a_503_that_names_it_and_no_secret(app_config):
    app = create_app({**app_config, "SMS_BACKEND": "twilio", "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
                      "TWILIO_AUTH_TOKEN": "secret-token-value", "TWILIO_FROM": "+15005550006"})
    app.config["TWILIO_FROM"] = ""  # lost after start (the start-up check refuses it missing)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.get_json()["checks"]["gateway"] == "failed"
    assert "secret-token-value" not in response.get_data(as_text=True)


def test_a_database_or_redis_that_does_not_answer_is_a_503():
    app = create_app({**BASE_CONFIG, "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
                      "REDIS_URL": "redis://127.0.0.1:1/0"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["checks"] | {} == {"database": "failed", "redis": "failed", "gateway": "ok",
                                                    "sms_backend": "outbox"}

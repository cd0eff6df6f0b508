"""ruralinfo: the platform core and the app factory."""
from __future__ import annotations

import os

from flask import Flask


def create_app(test_config: dict | None = None, *, checked: bool = True) -> Flask:
    """Build the app: configuration, extensions, blueprints, CLI. No I/O beyond
    reading configuration; the schema is made only by ``flask db upgrade``.

    ``checked=False`` skips the refusal of a configuration that cannot be used: only for
    ``doctor``, whose job is to say what is wrong with it."""
    app = Flask(__name__, instance_relative_config=True,
                template_folder=os.path.join(os.path.dirname(os.path.dirname(__file__)), "templates"))
    _configure(app, test_config, checked)
    from ruralinfo.web import IdConverter
    app.url_map.converters["int"] = IdConverter  # before any route: ids too large for the database are no match

    from ruralinfo import i18n, security, web
    from ruralinfo.audit import labels
    from ruralinfo.extensions import babel, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations"), render_as_batch=True, compare_type=True)
    babel.init_app(app, locale_selector=i18n.select_locale)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    _import_models()
    security.init_app(app)
    i18n.init_app(app)
    web.init_app(app)
    labels.init_app(app)
    from ruralinfo.sms import labels as sms_labels; sms_labels.init_app(app)  # noqa: E702
    _register_blueprints(app)
    from ruralinfo import broadcasts; broadcasts.init_app(app)  # noqa: E702
    from mailbox import notices; notices.init_app(app)  # noqa: E702
    _register_sms_commands()
    import hotline; hotline.init_app(app)  # noqa: E401,E702  (after the SMS commands: its rating wraps their digits)
    _register_gateways()
    _register_cli(app)
    return app


def _configure(app: Flask, test_config: dict | None, checked: bool = True) -> None:
    from werkzeug.middleware.proxy_fix import ProxyFix

    from ruralinfo import config

    app.config.update(config.defaults(app.instance_path))
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.update(config.from_environment())
    else:
        app.config.update(test_config)
    config.derive(app.config)
    if checked:
        config.validate(app.config, debug=app.debug)
    if app.config["PROXY_COUNT"]:
        count = int(app.config["PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
    os.makedirs(app.instance_path, exist_ok=True)


def _import_models() -> None:
    """Import every model module so that metadata (and Alembic) see all tables."""
    from ruralinfo.accounts import models as _accounts  # noqa: F401
    from ruralinfo.api import models as _api  # noqa: F401
    from ruralinfo.audit import models as _audit  # noqa: F401
    from ruralinfo.broadcasts import models as _broadcasts  # noqa: F401
    from ruralinfo.liaison import models as _liaison  # noqa: F401
    from ruralinfo.regions import models as _regions  # noqa: F401
    from ruralinfo.sms import models as _sms  # noqa: F401

    # The feature packages' tables (this factory is the one place that may import them).
    from mailbox import models as _mailbox  # noqa: F401
    from hotline import models as _hotline  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    from ruralinfo.accounts.views import bp as auth_bp
    from ruralinfo.admin.views import bp as admin_bp
    from ruralinfo.bureau.views import bp as bureau_bp
    from ruralinfo.liaison.views import bp as liaison_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(bureau_bp, url_prefix="/bureau")
    app.register_blueprint(liaison_bp, url_prefix="/liaison")
    from mailbox.views import bp as mailbox_bp; app.register_blueprint(mailbox_bp, url_prefix="/mailbox")  # noqa: E702
    from mailbox.liaison_views import bp as letters_bp; app.register_blueprint(letters_bp, url_prefix="/liaison/letters")  # noqa: E702,E501
    from mailbox.liaison_posts import bp as liaison_posts_bp; app.register_blueprint(liaison_posts_bp, url_prefix="/liaison/posts")  # noqa: E702,E501
    from mailbox.bureau_views import bp as rates_bp; app.register_blueprint(rates_bp, url_prefix="/bureau/letters")  # noqa: E702,E501
    from mailbox.moderation_views import bp as review_bp; app.register_blueprint(review_bp, url_prefix="/bureau/posts")  # noqa: E702,E501
    from mailbox.market_bureau_views import bp as bureau_market_bp; app.register_blueprint(bureau_market_bp, url_prefix="/bureau")  # noqa: E702,E501
    from mailbox.taxonomy_views import bp as products_bp; app.register_blueprint(products_bp, url_prefix="/admin/products")  # noqa: E702,E501
    from mailbox.market_views import bp as market_bp; app.register_blueprint(market_bp, url_prefix="/market")  # noqa: E702,E501
    from ruralinfo.sms.webhooks import bp as twilio_bp

    app.register_blueprint(twilio_bp)
    from ruralinfo.sms.kannel_hooks import bp as kannel_bp; app.register_blueprint(kannel_bp)  # noqa: E702
    from ruralinfo.health import bp as health_bp; app.register_blueprint(health_bp)  # noqa: E702  GET /healthz
    from ruralinfo import api; api.init_app(app)  # noqa: E702  (/api/v1 and the admin view's token page)
    from ruralinfo.dev import phone

    phone.init_app(app)


def _register_sms_commands() -> None:
    """The feature packages' SMS commands first (they lead the help text), then the
    core's; and the features' demo data."""
    from mailbox import commands as mailbox_commands
    from mailbox import demo as mailbox_demo
    from ruralinfo.sms import core_commands

    mailbox_commands.register()
    core_commands.register()
    mailbox_demo.register()


def _register_gateways() -> None:
    """SMS backends register themselves by name when imported."""
    from ruralinfo.sms.gateways import kannel, outbox, twilio  # noqa: F401


def _register_cli(app: Flask) -> None:
    from ruralinfo import cli

    cli.init_app(app)
    from ruralinfo.api.cli import api_token_cli; app.cli.add_command(api_token_cli)  # noqa: E702
    from mailbox.cli import posts_cli

    app.cli.add_command(posts_cli)

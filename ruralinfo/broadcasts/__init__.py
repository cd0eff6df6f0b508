"""Broadcasts of agricultural notices: composing, planning recipients, sending at a
rate every worker shares, and what became of every text."""


def init_app(app) -> None:
    """The bureau's pages; scheduled and interrupted broadcasts are taken up by the sweep;
    farmers leave and join topics by SMS."""
    from ruralinfo import jobs
    from ruralinfo.broadcasts import services, topics, views

    app.register_blueprint(views.bp, url_prefix="/bureau/broadcasts")
    jobs.register_sweep(services.sweep)
    topics.register()
    from ruralinfo.broadcasts import reply_commands; reply_commands.register()  # noqa: E702 - sign-up answers

"""Broadcasts of agricultural notices: composing, planning recipients, sending at a
rate every worker shares, and what became of every text."""


def init_app(app) -> None:
    """Scheduled and interrupted broadcasts are taken up by the sweep; farmers leave and
    join topics by SMS."""
    from ruralinfo import jobs
    from ruralinfo.broadcasts import services, topics

    jobs.register_sweep(services.sweep)
    topics.register()

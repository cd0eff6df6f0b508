"""Broadcasts of agricultural notices: composing, planning recipients, sending at a
rate every worker shares, and what became of every text."""


def init_app(app) -> None:
    """Scheduled and interrupted broadcasts are taken up by the sweep."""
    from ruralinfo import jobs
    from ruralinfo.broadcasts import services

    jobs.register_sweep(services.sweep)

"""The 12316 hotline: voice menus, calls, questions and expert answers."""


def init_app(app) -> None:
    """The hotline's webhooks and pages, its SMS commands (after the broadcasts', whose
    sign-up digits the rating wraps), and its voice drivers."""
    from hotline import answers_views, bureau_views, console_views, editor_views, farmer_views, sms_commands
    from hotline import callback_views, dev_call, voice_views

    app.register_blueprint(voice_views.bp)  # /twilio/voice…
    app.register_blueprint(console_views.bp, url_prefix="/hotline")
    app.register_blueprint(answers_views.bp, url_prefix="/answers")
    app.register_blueprint(farmer_views.bp, url_prefix="/mailbox/questions")
    app.register_blueprint(bureau_views.bp, url_prefix="/bureau/hotline")
    app.register_blueprint(editor_views.bp, url_prefix="/admin/hotline")
    app.register_blueprint(editor_views.prompts_bp, url_prefix="/voice/prompts")  # recorded prompts, for Twilio to play
    app.register_blueprint(callback_views.bp)  # /twilio/voice/callback…: an expert rings a farmer back
    dev_call.init_app(app)  # /dev/call: only where the phone simulator is (DEBUG or DEV_SIMULATORS, outbox)
    sms_commands.register()
    from hotline import topics
    from ruralinfo.audit import labels
    labels.VALUES.setdefault("topic", {}).update(topics.TOPICS)  # the audit log names a question's topic

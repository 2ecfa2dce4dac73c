"""HTTP: thin blueprints that parse, call one service, and shape the response."""

from __future__ import annotations

from flask import Flask, Response, current_app, redirect, url_for

from hotline.runtime import Runtime


def runtime() -> Runtime:
    rt = current_app.extensions["hotline"]
    assert isinstance(rt, Runtime)
    return rt


def runtime_of_app(app: Flask) -> Runtime:
    rt = app.extensions["hotline"]
    assert isinstance(rt, Runtime)
    return rt


def init_app(app: Flask) -> None:
    from hotline.web import auth, console, health, refusals, security, supervisor, twilio_hooks

    app.register_blueprint(twilio_hooks.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(console.bp)
    app.register_blueprint(supervisor.bp)
    from hotline.web import reviews

    app.register_blueprint(reviews.bp)
    from hotline.web import reports

    app.register_blueprint(reports.bp)
    from hotline.web import admin_settings

    app.register_blueprint(admin_settings.bp)
    from hotline.web import admin_staff

    app.register_blueprint(admin_staff.bp)
    from hotline.web import password

    app.register_blueprint(password.bp)
    from hotline.web import attention

    app.register_blueprint(attention.bp)
    from hotline.web import console_replies

    app.register_blueprint(console_replies.bp)
    from hotline.web import metrics

    app.register_blueprint(metrics.bp)
    from hotline.web import asking

    app.register_blueprint(asking.bp)
    from hotline.web import transfers

    app.register_blueprint(transfers.bp)
    from hotline.web import staff_names

    app.register_blueprint(staff_names.bp)
    from hotline.web import case_record

    app.register_blueprint(case_record.bp)
    security.init_app(app)
    refusals.init_app(app)
    from hotline.web import inbound_sms, throttle

    # Before the throttle: what it wraps around app.wsgi_app (ProxyFix) wraps the webhook too.
    inbound_sms.init_app(app)

    throttle.init_app(app, runtime_of_app(app).settings)

    @app.get("/")
    def _home() -> Response:
        return redirect(url_for("console.page"))  # type: ignore[return-value]

"""Public dissemination pages: the tracked short link and unsubscribing.

- ``/c/<code>``: counts a click for the campaign channel and sends the person to the
  registration form of the session the campaign announces, carrying the code (``?c=``), so the
  registration is credited to the channel. Unknown codes get a page that still helps.
- ``/b/<token>``: unsubscribe. GET shows one button (a link scanner following the link changes
  nothing); POST unsubscribes, also as RFC 8058 one-click from the mail program
  (``List-Unsubscribe=One-Click``), which is why it needs no CSRF token: the token in the
  address is the proof.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from app.dissemination import services
from app.extensions import csrf, limiter

bp = Blueprint("dissemination_public", __name__)




@bp.get("/c/<code>")
@limiter.limit("120 per minute")
def track(code: str) -> ResponseReturnValue:
    channel = services.channel_by_code(code)
    if channel is None:
        return render_template("dissemination/public/unknown_code.html"), 404
    campaign = channel.campaign
    session = services.target_session(campaign.activity, campaign.session_id)
    if request.method == "GET":
        services.count_click(channel)
    if session is None:
        return render_template("dissemination/public/no_session.html", activity=campaign.activity), 410
    resp = redirect(url_for("registration.register", session_id=session.id, c=channel.code), 303)
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Referrer-Policy"] = "no-referrer"
    return resp


@csrf.exempt
@bp.route("/b/<token>", methods=["GET", "POST"])
@limiter.limit("30 per minute")
def unsubscribe(token: str) -> ResponseReturnValue:
    person = services.person_from_unsubscribe_token(token)
    if person is None:
        abort(404)
    if request.method == "GET":
        resp = Response(render_template("dissemination/public/unsubscribe.html", token=token,
                                        done=services.is_unsubscribed(person)))
    else:
        services.unsubscribe(person)
        if request.form.get("List-Unsubscribe") == "One-Click":
            resp = Response("OK", mimetype="text/plain")
        else:
            resp = Response(render_template("dissemination/public/unsubscribe.html", token=token, done=True))
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["X-Robots-Tag"] = "noindex, nofollow"
    resp.headers["Referrer-Policy"] = "no-referrer"
    return resp

"""Co-branding pages: the public logo of an office and the staff page that changes it
(rules in ``app.territory.branding``)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from app.accounts.guards import current_account, require
from app.extensions import db
from app.files_models import StoredFile
from app.storage import ObjectMissing, get_backend
from app.territory.branding import LOGO_MAX_KB, BrandingError, cobrand_for, remove_logo, set_logo
from app.territory.models import Office, OfficeLogo

bp = Blueprint("branding", __name__)


@bp.get("/oficinas/<slug>/logo")
def office_logo(slug: str) -> ResponseReturnValue:
    """The office's logo, public and cacheable (the page links it with ?v=<file id>)."""
    row = db.session.execute(
        select(StoredFile).join(OfficeLogo, OfficeLogo.file_id == StoredFile.id)
        .join(Office, Office.id == OfficeLogo.office_id).where(Office.slug == slug, Office.active.is_(True))
    ).scalar_one_or_none()
    if row is None:
        abort(404)
    if request.if_none_match.contains(row.sha256):
        response = current_app.response_class(status=304)
    else:
        try:
            body = get_backend().read(row.key)
        except ObjectMissing:
            abort(404)
        response = current_app.response_class(body, mimetype=row.content_type)
    response.set_etag(row.sha256)
    response.headers["Cache-Control"] = "public, max-age=86400"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _render(office: Office, *, errors: dict[str, str] | None = None, alt: str | None = None,
            status: int = 200) -> ResponseReturnValue:
    logo = db.session.get(OfficeLogo, office.id)
    return render_template("territory/office_logo.html", office=office, logo=logo, errors=errors or {},
                           alt=alt if alt is not None else (logo.alt if logo else ""),
                           cobrand=cobrand_for(office), max_kb=LOGO_MAX_KB), status


@bp.route("/gestion/oficinas/<int:office_id>/logo", methods=["GET", "POST"])
@login_required
def edit_logo(office_id: int) -> ResponseReturnValue:
    office = db.get_or_404(Office, office_id)
    require("office.edit", office)
    if request.method == "GET":
        return _render(office)

    if request.form.get("action") == "remove":
        remove_logo(office, actor=current_account())
        flash(_("Se quitó el logo."), "success")
        return redirect(url_for("branding.edit_logo", office_id=office.id))
    upload = request.files.get("logo")
    alt = request.form.get("alt", "")
    try:
        if upload is None or not upload.filename:
            raise BrandingError(_("Elija la imagen del logo (PNG, JPEG o WebP)."), field="logo")
        set_logo(office, upload, upload.filename, alt, actor=current_account())
    except BrandingError as err:
        return _render(office, errors={err.field: err.message}, alt=alt, status=err.status)
    flash(_("Se guardó el logo: aparece en las páginas públicas de los talleres de la oficina."), "success")
    return redirect(url_for("branding.edit_logo", office_id=office.id))

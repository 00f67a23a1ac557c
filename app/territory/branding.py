"""Co-branding: an office's own logo (its municipality's, usually) on its public workshop pages,
next to a partner mark the deployment configures (SENCE's, by default as plain text).

No trademark ships in the repository: offices upload their logo (checked by content like every
upload, PNG, JPEG or WebP, at most LOGO_MAX_KB), and the partner mark is text
(``PARTNER_MARK_TEXT``) or an image address the deployment provides (``PARTNER_MARK_IMAGE_URL``).
The logo is public: it is served at /oficinas/<slug>/logo with a long cache and its hash as ETag.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from app.accounts.guards import current_account, require
from app.audit.services import record
from app.extensions import db
from app.files_models import StoredFile
from app.storage import ObjectMissing, StorageError, discard, get_backend, save_upload
from app.territory.models import Office, OfficeLogo

bp = Blueprint("branding", __name__)

LOGO_MAX_KB = 300  # a logo is shown small; a heavier file would weigh down every workshop page
ALT_MAX = 160


class BrandingError(ValueError):
    def __init__(self, message: str, field: str, status: int = 400) -> None:
        super().__init__(message)
        self.message, self.field, self.status = message, field, status


@dataclass(frozen=True)
class CoBrand:
    """What a public page shows beside the platform's name."""

    logo_url: str | None
    logo_alt: str
    partner_text: str
    partner_image_url: str | None

    @property
    def shown(self) -> bool:
        return bool(self.logo_url or self.partner_text or self.partner_image_url)


def cobrand_for(office: Office) -> CoBrand:
    logo = db.session.get(OfficeLogo, office.id)
    config = current_app.config
    return CoBrand(
        logo_url=url_for("branding.office_logo", slug=office.slug, v=logo.file_id) if logo else None,
        logo_alt=logo.alt if logo else "",
        partner_text=str(config.get("PARTNER_MARK_TEXT") or ""),
        partner_image_url=config.get("PARTNER_MARK_IMAGE_URL") or None,
    )


def set_logo(office: Office, upload: object, filename: str, alt: str, *, actor: object) -> OfficeLogo:
    """Store a new logo for ``office`` (replacing the old one) in one transaction."""
    alt = " ".join((alt or "").split())
    if not alt:
        raise BrandingError(_("Escriba qué dice el logo (por ejemplo, «Municipalidad de Ñuñoa»): lo leen "
                              "quienes no ven la imagen."), field="alt")
    if len(alt) > ALT_MAX:
        raise BrandingError(_("La descripción del logo no puede superar %(n)s caracteres.", n=ALT_MAX), field="alt")
    try:
        stored = save_upload(upload, filename=filename, purpose="logo", max_bytes=LOGO_MAX_KB * 1024,
                             office_id=office.id, uploaded_by=actor)  # type: ignore[arg-type]
    except StorageError as err:
        raise BrandingError(err.message, field="logo", status=err.status) from err
    logo = db.session.get(OfficeLogo, office.id)
    old = db.session.get(StoredFile, logo.file_id) if logo else None
    if logo is None:
        logo = OfficeLogo(office_id=office.id, file_id=stored.id, alt=alt)
        db.session.add(logo)
    else:
        logo.file_id, logo.alt = stored.id, alt
    db.session.flush()
    if old is not None:
        discard(old)
    record("office.logo_set", office, actor=actor, office_id=office.id)
    db.session.commit()
    return logo


def remove_logo(office: Office, *, actor: object) -> None:
    logo = db.session.get(OfficeLogo, office.id)
    if logo is None:
        return
    stored = db.session.get(StoredFile, logo.file_id)
    db.session.delete(logo)
    db.session.flush()
    if stored is not None:
        discard(stored)
    record("office.logo_remove", office, actor=actor, office_id=office.id)
    db.session.commit()


# --- views ---------------------------------------------------------------------------------------


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

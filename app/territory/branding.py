"""Co-branding: an office's own logo (its municipality's, usually) on its public workshop pages,
next to a partner mark the deployment configures (SENCE's, by default as plain text).

No trademark ships in the repository: offices upload their logo (checked by content like every
upload, PNG, JPEG or WebP, at most LOGO_MAX_KB), and the partner mark is text
(``PARTNER_MARK_TEXT``) or an image address the deployment provides (``PARTNER_MARK_IMAGE_URL``).
The logo is public: it is served at /oficinas/<slug>/logo with a long cache and its hash as ETag
(``branding_views``).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.audit.services import record
from app.extensions import db
from app.files_models import StoredFile
from app.storage import StorageError, discard, save_upload
from app.territory.models import Office, OfficeLogo

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
    # Two people saving at once: the office row is locked (PostgreSQL) and a lost insert race
    # (SQLite) is refused with a message rather than a 500.
    db.session.execute(select(Office.id).where(Office.id == office.id).with_for_update())
    logo = db.session.get(OfficeLogo, office.id, populate_existing=True)
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
    try:
        db.session.commit()
    except IntegrityError as err:
        db.session.rollback()
        raise BrandingError(_("Otra persona cambió el logo al mismo tiempo. Revise cuál quedó y vuelva a "
                              "intentarlo si hace falta."), field="logo", status=409) from err
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

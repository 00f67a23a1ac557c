"""Signed file downloads under /archivos.

The token in ``/archivos/<token>`` *is* the permission: it is handed out by
``app.storage.download_url`` only after the caller's view asked the policy, it names one file
and lives a few minutes. This view checks the signature and the age, nothing else.
"""

from __future__ import annotations

import logging

from flask import Blueprint, abort
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired

from app.extensions import db
from app.files_models import StoredFile
from app.storage import ObjectMissing, read_download_token, send_stored_file

log = logging.getLogger("puente.files")

bp = Blueprint("files", __name__, url_prefix="/archivos")


@bp.get("/<token>")
def download(token: str) -> ResponseReturnValue:
    try:
        file_id = read_download_token(token)
    except SignatureExpired:
        abort(410, _("El enlace de descarga venció. Vuelva a la página donde lo obtuvo y "
                     "pida uno nuevo."))
    except BadSignature:
        abort(403, _("El enlace de descarga no es válido. Vuelva a la página donde lo obtuvo "
                     "y pida uno nuevo."))
    stored = db.session.get(StoredFile, file_id)
    if stored is None:
        abort(410, _("Este archivo ya no está disponible."))
    try:
        return send_stored_file(stored)
    except ObjectMissing:
        log.error("objeto faltante file_id=%s key=%s", stored.id, stored.key)
        abort(404)

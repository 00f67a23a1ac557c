"""Files: one storage layer for everything the platform keeps.

Workshop materials, CVs, certificates and (later) recordings all go through here. The bytes
live in a *backend* chosen by ``STORAGE_URL``; what we know about them (the uploader's name
for the file, the type detected from its content, size, sha256, purpose, office) lives in a
``StoredFile`` row.

Backends
    ``file:///abs/path``  a local folder (the default: ``instance/files``);
    ``s3://bucket/prefix`` any S3-compatible service through boto3. ``STORAGE_ENDPOINT_URL``
    points at a non-AWS endpoint (MinIO, a Chilean provider), ``STORAGE_REGION`` names the
    region, and credentials come from the standard ``AWS_ACCESS_KEY_ID`` /
    ``AWS_SECRET_ACCESS_KEY`` variables (or any other source boto3 reads): nothing secret
    is ever in our config.

Keys
    We make every key ourselves: ``<purpose>/<yyyy>/<mm>/<uuid4 hex>``. The uploader's file
    name is only stored (cleaned) for the download's ``Content-Disposition``; it never becomes
    part of a path. Both backends refuse keys outside that shape, and the local backend also
    refuses any key that would resolve outside its folder (``..``, absolute paths, symlinks).
    The S3 prefix is not part of the key, so moving from a folder to a bucket is a copy.

Uploads
    ``save_upload`` reads at most ``max_bytes + 1`` bytes in chunks (spooled to a temporary
    file beyond 1 MiB, never all in memory), detects the type *from the content* (``filetype``
    plus a look inside zip files for Office documents), refuses an unknown type or one the
    purpose does not allow (415) and anything too big (413) before writing a byte, then
    stores the object and adds the row to the session. The caller commits.

    If that transaction rolls back (or the session is closed without committing) the object
    just written is deleted again (see the session hooks at the end of this module). What
    can still leave an *orphan object* (bytes without a row): the process dying between the
    write and the commit, a savepoint rolled back inside a transaction that then commits, or
    a failed delete. Orphans are harmless (nothing links to them) and a periodic cleanup job
    can remove objects older than a day that have no ``stored_files`` row. The opposite
    (a row without bytes) does not happen: bytes are written first and deleted (``discard``)
    only after the row's deletion commits.

Serving: permission checks belong to the caller
    Files are served only through a view that has checked permission, or through a
    short-lived signed link. This module does **not** decide who may see a file: a view such
    as "materials of a workshop" first asks the policy (``can(user, ..., workshop)``) and
    only then calls ``download_url(stored_file)`` (or ``send_stored_file`` to answer
    itself). Whoever holds the link may download the file until it expires, so links are
    handed out per request and never stored, mailed or logged (the request log hides long
    opaque path segments).

    ``download_url`` gives, for S3, a presigned ``get_object`` URL that forces
    ``Content-Disposition: attachment`` and the stored content type; for the local folder,
    ``/archivos/<token>`` where the token is signed with ``SECRET_KEY`` (salt
    ``file-download``), carries the file id and its lifetime, and is checked by
    ``app.files_views``. The default lifetime is ``FILE_DOWNLOAD_MAX_AGE_SECONDS`` (300 s).
"""

from __future__ import annotations

import codecs
import hashlib
import io
import logging
import os
import re
import tempfile
import threading
import time
import unicodedata
import uuid
import zipfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast
from urllib.parse import quote, unquote, urlsplit
from urllib.request import url2pathname

import filetype
from flask import Response, current_app, send_file, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from app.config import ConfigError
from app.extensions import db
from app.files_models import StoredFile
from app.timeutil import utcnow

if TYPE_CHECKING:
    from app.accounts.models import User

log = logging.getLogger("puente.storage")

DOWNLOAD_SALT = "file-download"
DEFAULT_LINK_SECONDS = 300
MAX_LINK_SECONDS = 7 * 24 * 3600  # S3's own limit for presigned URLs
CHUNK_BYTES = 64 * 1024
SPOOL_MEMORY_BYTES = 1024 * 1024
SNIFF_BYTES = 8192  # what filetype looks at


# --- errors --------------------------------------------------------------------------------


class StorageError(Exception):
    """A refusal the uploader caused; ``message`` is Spanish and safe to show next to the field."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class UnsafeKey(ValueError):
    """A key outside the shape we generate (a bug or an attack, never a user mistake)."""


class ObjectMissing(LookupError):
    """The backend holds nothing under this key."""


# --- kinds of file -------------------------------------------------------------------------

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Kind:
    name: str
    content_type: str
    extensions: tuple[str, ...]  # the first is the one added to a download name
    label: str  # shown to users


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("pdf", "application/pdf", (".pdf",), "PDF"),
        Kind("docx", DOCX, (".docx",), "Word (.docx)"),
        Kind("pptx", PPTX, (".pptx",), "PowerPoint (.pptx)"),
        Kind("xlsx", XLSX, (".xlsx",), "Excel (.xlsx)"),
        Kind("png", "image/png", (".png",), "PNG"),
        Kind("jpeg", "image/jpeg", (".jpg", ".jpeg"), "JPEG"),
        Kind("webp", "image/webp", (".webp",), "WebP"),
        Kind("mp4", "video/mp4", (".mp4",), "MP4"),
        Kind("webm", "video/webm", (".webm",), "WebM"),
        Kind("csv", "text/csv", (".csv",), "CSV"),
    )
}

# What each purpose accepts. The one place to change it.
PURPOSE_KINDS: dict[str, frozenset[str]] = {
    "material": frozenset({"pdf", "pptx", "docx", "png", "jpeg"}),
    "cv": frozenset({"pdf", "docx"}),
    "certificate": frozenset({"pdf"}),
    "recording": frozenset({"mp4", "webm"}),
    "logo": frozenset({"png", "jpeg", "webp"}),  # an office's logo on its public pages
}

_FILETYPE_KINDS = {
    "application/pdf": "pdf",
    "image/png": "png",
    "image/apng": "png",
    "image/jpeg": "jpeg",
    "image/webp": "webp",
    "video/mp4": "mp4",
    "video/webm": "webm",
}
_ZIP_MIMES = {"application/zip", DOCX, PPTX, XLSX}
_OOXML_FOLDERS = (("word/", "docx"), ("ppt/", "pptx"), ("xl/", "xlsx"))
_KNOWN_EXTENSIONS = {ext for k in KINDS.values() for ext in k.extensions} | {
    ".exe", ".zip", ".doc", ".ppt", ".xls", ".gif", ".txt", ".html", ".htm", ".svg", ".mov",
}


def detect_kind(head: bytes, whole: IO[bytes] | None = None, *, csv: bool = False) -> str | None:
    """The kind of a file judged by its bytes, or None when we do not recognise it.

    ``head`` is the beginning of the file (8 KiB is enough); ``whole`` a seekable file with
    all of it, needed to tell Office documents from other zip files. ``csv=True`` tries the
    plain-text check when nothing binary matched.
    """
    guess = filetype.guess(head)
    if guess is not None:
        if guess.mime in _ZIP_MIMES:
            return _ooxml_kind(whole if whole is not None else io.BytesIO(head))
        return _FILETYPE_KINDS.get(guess.mime)
    if csv and _looks_like_csv(head):
        return "csv"
    return None


def _ooxml_kind(file: IO[bytes]) -> str | None:
    """docx/pptx/xlsx from the zip's table of contents; anything else (or macros) is None."""
    try:
        file.seek(0)
        with zipfile.ZipFile(file) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        return None  # macro-enabled (.docm/.pptm/.xlsm): not something we hand to jobseekers
    for folder, kind in _OOXML_FOLDERS:
        if any(name.startswith(folder) for name in names):
            return kind
    return None


def _looks_like_csv(head: bytes) -> bool:
    """UTF-8 text without control characters whose first line has a separator."""
    try:
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    if not text.strip() or any(ord(c) < 32 and c not in "\t\r\n" for c in text):
        return False
    first_line = text.splitlines()[0] if text.splitlines() else ""
    return any(sep in first_line for sep in (",", ";", "\t"))


def kinds_label(kinds: Collection[str]) -> str:
    return ", ".join(k.label for name, k in KINDS.items() if name in kinds)


# --- keys and names ------------------------------------------------------------------------

_KEY_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(?:/[A-Za-z0-9][A-Za-z0-9._-]*)*")
MAX_KEY_LENGTH = 300


def check_key(key: str) -> str:
    """Return ``key`` if it has the shape we generate; raise ``UnsafeKey`` otherwise.

    Segments start with a letter or digit (so no ``.``, ``..`` or hidden files), there are no
    empty segments, no leading slash, no backslash and nothing outside ASCII.
    """
    if not isinstance(key, str) or len(key) > MAX_KEY_LENGTH or not _KEY_RE.fullmatch(key):
        raise UnsafeKey(f"clave de almacenamiento no válida: {key!r}")
    return key


def new_key(purpose: str) -> str:
    now = utcnow()
    return check_key(f"{purpose}/{now:%Y}/{now:%m}/{uuid.uuid4().hex}")


def clean_filename(raw: str | None, kind: Kind) -> str:
    """The uploader's name, made safe to show and to offer back as a download name.

    Keeps accents and ñ; drops any folder part, control characters and leading dots; makes
    the extension match what the content really is (``foto.png`` holding a PDF becomes
    ``foto.pdf``); fits the 255-character column.
    """
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = name.strip().lstrip(".").strip()
    root, ext = os.path.splitext(name)
    if ext.lower() not in kind.extensions:
        if not ext or ext.lower() in _KNOWN_EXTENSIONS:
            name = root
        ext = kind.extensions[0]
    else:
        name = root
    name = name.strip() or _("archivo")
    return name[: 255 - len(ext)] + ext


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback name and the real one as RFC 5987 ``filename*``."""
    name = filename or "archivo"
    root, ext = os.path.splitext(name)

    def ascii_only(text: str) -> str:
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
        return re.sub(r"[^A-Za-z0-9._ ()-]+", "_", text)

    fallback = (ascii_only(root).strip(" ._") or "archivo") + ascii_only(ext)
    quoted = quote(name, safe="!#$&+-.^_`|~")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quoted}"


# --- backends ------------------------------------------------------------------------------

Data = bytes | bytearray | memoryview | IO[bytes]


class StorageBackend(ABC):
    """Where the bytes live. Keys are ours (``check_key``); every method validates them."""

    @abstractmethod
    def put(self, key: str, data: Data, *, content_type: str) -> None:
        """Store ``data`` (bytes or a readable binary file, read to its end) under ``key``."""

    @abstractmethod
    def open(self, key: str) -> IO[bytes]:
        """A readable binary stream; the caller closes it. ``ObjectMissing`` if absent."""

    def read(self, key: str) -> bytes:
        with self.open(key) as stream:
            return stream.read()

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object; deleting a missing one is not an error."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def signed_url(self, key: str, *, filename: str, content_type: str, expires: int) -> str | None:
        """A direct download link valid ``expires`` seconds, or None when the backend has
        none (then the app signs a link to its own view)."""

    def local_path(self, key: str) -> Path | None:
        """The file on this machine, when there is one (lets the view answer range requests)."""
        return None


class LocalBackend(StorageBackend):
    """A folder on this machine. Writes are atomic (temporary file, fsync, rename)."""

    def __init__(self, root: str | Path) -> None:
        root = Path(root)
        if not root.is_absolute():
            raise ConfigError(f"STORAGE_URL: la carpeta debe ser una ruta absoluta ({root})")
        self.root = root

    def __repr__(self) -> str:
        return f"LocalBackend({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        check_key(key)
        base = self.root.resolve()
        path = (base / key).resolve()
        if not path.is_relative_to(base) or path == base:
            raise UnsafeKey(f"la clave {key!r} sale de la carpeta de archivos")
        return path

    def put(self, key: str, data: Data, *, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".subiendo-")
        try:
            with os.fdopen(fd, "wb") as out:
                if isinstance(data, bytes | bytearray | memoryview):
                    out.write(data)
                else:
                    while chunk := data.read(CHUNK_BYTES):
                        out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp_name, path)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise

    def open(self, key: str) -> IO[bytes]:
        try:
            return self._path(key).open("rb")
        except (FileNotFoundError, IsADirectoryError) as exc:
            raise ObjectMissing(key) from exc

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def signed_url(self, key: str, *, filename: str, content_type: str, expires: int) -> str | None:
        check_key(key)
        return None

    def local_path(self, key: str) -> Path | None:
        return self._path(key)


class S3Backend(StorageBackend):
    """An S3 bucket (AWS or compatible). Large bodies go up as multipart uploads."""

    def __init__(self, bucket: str, prefix: str = "", *, endpoint_url: str | None = None,
                 region: str | None = None) -> None:
        if not bucket:
            raise ConfigError("STORAGE_URL: falta el nombre del bucket (s3://bucket/prefijo)")
        self.bucket = bucket
        self.prefix = check_key(prefix) if prefix else ""
        self.endpoint_url = endpoint_url
        self.region = region
        self._client: Any = None
        self._client_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"S3Backend(bucket={self.bucket!r}, prefix={self.prefix!r})"

    @property
    def client(self) -> Any:
        # boto3 clients are thread-safe once made, but making them from the shared default
        # session is not: one session of our own, one client, made once under a lock.
        with self._client_lock:
            if self._client is None:
                self._client = self._make_client()
            return self._client

    def _make_client(self) -> Any:
        import boto3
        from botocore.config import Config

        config = Config(
            signature_version="s3v4",
            # Custom endpoints (MinIO, a local server) rarely have wildcard DNS per bucket.
            s3={"addressing_style": "path" if self.endpoint_url else "auto"},
            retries={"max_attempts": 5, "mode": "standard"},
            connect_timeout=5,
            read_timeout=60,
        )
        return boto3.session.Session().client("s3", endpoint_url=self.endpoint_url,
                                              region_name=self.region, config=config)

    def _key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    @staticmethod
    def _is_missing(exc: Exception) -> bool:
        code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
        return code in ("404", "NoSuchKey", "NotFound")

    def put(self, key: str, data: Data, *, content_type: str) -> None:
        target = self._key(key)
        body: IO[bytes] = io.BytesIO(bytes(data)) if isinstance(
            data, bytes | bytearray | memoryview) else data
        self.client.upload_fileobj(body, self.bucket, target,
                                   ExtraArgs={"ContentType": content_type})

    def open(self, key: str) -> IO[bytes]:
        from botocore.exceptions import ClientError

        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if self._is_missing(exc):
                raise ObjectMissing(key) from exc
            raise
        return cast(IO[bytes], answer["Body"])

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if self._is_missing(exc):
                return False
            raise
        return True

    def signed_url(self, key: str, *, filename: str, content_type: str, expires: int) -> str | None:
        url: str = self.client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": self._key(key),
                "ResponseContentDisposition": content_disposition(filename),
                "ResponseContentType": content_type,
            },
            ExpiresIn=expires,
        )
        return url


def backend_from_url(url: str, *, endpoint_url: str | None = None,
                     region: str | None = None) -> StorageBackend:
    """``file:///abs/path`` or ``s3://bucket/prefix`` → a backend."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ConfigError(f"STORAGE_URL: use file:///ruta/absoluta, no {url!r}")
        return LocalBackend(url2pathname(unquote(parts.path)))
    if parts.scheme == "s3":
        return S3Backend(parts.netloc, parts.path.strip("/"), endpoint_url=endpoint_url,
                         region=region)
    raise ConfigError(f"STORAGE_URL debe empezar con file:// o s3:// (recibido: {url!r})")


def get_backend() -> StorageBackend:
    """The current app's backend (one per configuration, kept for the app's life)."""
    cfg = current_app.config
    settings = (cfg["STORAGE_URL"], cfg.get("STORAGE_ENDPOINT_URL"), cfg.get("STORAGE_REGION"))
    cache: dict[tuple[Any, ...], StorageBackend] = current_app.extensions.setdefault(
        "puente_storage", {})
    if settings not in cache:
        cache[settings] = backend_from_url(settings[0], endpoint_url=settings[1],
                                           region=settings[2])
    return cache[settings]


# --- uploads -------------------------------------------------------------------------------


def _human_size(n: int) -> str:
    if n >= 1024 * 1024:
        value, unit = n / (1024 * 1024), "MB"
    elif n >= 1024:
        value, unit = n / 1024, "KB"
    else:
        return f"{n} bytes"
    text = f"{value:.1f}".removesuffix(".0").replace(".", ",")
    return f"{text} {unit}"


def _reader(source: Data) -> Callable[[int], bytes]:
    if isinstance(source, bytes | bytearray | memoryview):
        return io.BytesIO(bytes(source)).read
    read = getattr(source, "read", None)
    if read is None:
        raise TypeError("save_upload espera bytes o un archivo binario legible")
    return cast(Callable[[int], bytes], read)


def save_upload(
    source: Data,
    *,
    filename: str,
    purpose: str,
    allowed: Collection[str] | None = None,
    max_bytes: int | None = None,
    office_id: int | None = None,
    uploaded_by: User | int | None = None,
) -> StoredFile:
    """Check and store an upload; return its ``StoredFile``, added to the session and flushed.

    ``source`` is bytes or a binary stream (a werkzeug ``FileStorage`` works as is).
    ``allowed`` narrows the purpose's kinds (it may not widen them); ``max_bytes`` defaults
    to ``MAX_UPLOAD_MB``. Raises ``StorageError`` before anything is written (413 too big,
    415 type refused, 400 empty; 503 when the backend fails). The caller commits; a rollback
    deletes the object again.
    """
    if purpose not in PURPOSE_KINDS:
        raise ValueError(f"propósito desconocido: {purpose!r}")
    kinds = frozenset(allowed) if allowed is not None else PURPOSE_KINDS[purpose]
    if not kinds or not kinds <= PURPOSE_KINDS[purpose]:
        raise ValueError(f"{sorted(kinds)} no es un subconjunto de {sorted(PURPOSE_KINDS[purpose])}")
    if max_bytes is None:
        max_bytes = int(current_app.config["MAX_UPLOAD_MB"]) * 1024 * 1024
    shown_name = re.split(r"[/\\]", filename or "")[-1][:80] or _("el archivo")

    read = _reader(source)
    hasher = hashlib.sha256()
    head = bytearray()
    size = 0
    limit = max_bytes + 1
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES) as spool:
        while size < limit:
            chunk = read(min(CHUNK_BYTES, limit - size))
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                raise StorageError(
                    _("«%(name)s» supera el tamaño máximo de %(limit)s.", name=shown_name,
                      limit=_human_size(max_bytes)),
                    status=413,
                )
            hasher.update(chunk)
            spool.write(chunk)
            if len(head) < SNIFF_BYTES:
                head += chunk[: SNIFF_BYTES - len(head)]
        if size == 0:
            raise StorageError(_("«%(name)s» está vacío.", name=shown_name), status=400)

        found = detect_kind(bytes(head), cast(IO[bytes], spool), csv="csv" in kinds)
        if found is None:
            raise StorageError(
                _("No reconocemos el tipo de «%(name)s». Se aceptan: %(kinds)s.",
                  name=shown_name, kinds=kinds_label(kinds)),
                status=415,
            )
        if found not in kinds:
            raise StorageError(
                _("«%(name)s» es un archivo %(found)s; aquí se aceptan: %(kinds)s.",
                  name=shown_name, found=KINDS[found].label, kinds=kinds_label(kinds)),
                status=415,
            )
        kind = KINDS[found]
        backend = get_backend()
        key = new_key(purpose)
        spool.seek(0)
        try:
            backend.put(key, cast(IO[bytes], spool), content_type=kind.content_type)
        except Exception as exc:
            log.exception("no se pudo guardar key=%s backend=%r", key, backend)
            _delete_quietly(backend, key)
            raise StorageError(
                _("No pudimos guardar «%(name)s» en este momento. Intente de nuevo en unos "
                  "minutos.", name=shown_name),
                status=503,
            ) from exc

    stored = StoredFile(
        key=key,
        filename=clean_filename(filename, kind),
        content_type=kind.content_type,
        size=size,
        sha256=hasher.hexdigest(),
        purpose=purpose,
        office_id=office_id,
        uploaded_by_id=getattr(uploaded_by, "id", uploaded_by),
    )
    _uncommitted(db.session()).append((backend, key))
    db.session.add(stored)
    try:
        db.session.flush()
    except Exception:
        _forget(db.session(), key)
        _delete_quietly(backend, key)
        raise
    return stored


def discard(stored: StoredFile) -> None:
    """Delete the row in the caller's transaction and the bytes once that commits."""
    backend = get_backend()
    session = db.session()
    session.delete(stored)
    session.info.setdefault(_DELETE_ON_COMMIT, []).append((backend, stored.key))


# --- serving -------------------------------------------------------------------------------


def _link_seconds(expires: int | None) -> int:
    if expires is None:
        expires = int(current_app.config.get("FILE_DOWNLOAD_MAX_AGE_SECONDS", DEFAULT_LINK_SECONDS))
    if not 1 <= expires <= MAX_LINK_SECONDS:
        raise ValueError(f"expires debe estar entre 1 y {MAX_LINK_SECONDS} segundos")
    return expires


def _serializer() -> URLSafeTimedSerializer:
    fallbacks = list(current_app.config.get("SECRET_KEY_FALLBACKS") or [])
    # itsdangerous signs with the last key and accepts all of them.
    return URLSafeTimedSerializer([*fallbacks, current_app.config["SECRET_KEY"]],
                                  salt=DOWNLOAD_SALT)


def make_download_token(file_id: int, expires: int | None = None) -> str:
    return _serializer().dumps([file_id, _link_seconds(expires)])


def read_download_token(token: str) -> int:
    """The file id in a token; ``BadSignature`` if forged, ``SignatureExpired`` if too old."""
    payload, signed_at = _serializer().loads(token, return_timestamp=True)
    if (not isinstance(payload, list) or len(payload) != 2
            or not all(type(v) is int for v in payload)):
        raise BadSignature("malformed payload")
    file_id, lifetime = payload
    if time.time() - signed_at.timestamp() > lifetime:
        raise SignatureExpired("download link expired", payload=payload, date_signed=signed_at)
    return int(file_id)


def download_url(stored: StoredFile, expires: int | None = None, *, external: bool = False) -> str:
    """A link that downloads ``stored`` for ``expires`` seconds (default 300).

    Call it only after checking the user may see the file. S3: a presigned URL; local
    folder: ``/archivos/<token>`` (needs a request context, or ``SERVER_NAME``).
    """
    if stored.id is None:
        raise ValueError("el archivo aún no tiene id: use save_upload (que hace flush) primero")
    seconds = _link_seconds(expires)
    direct = get_backend().signed_url(stored.key, filename=stored.filename,
                                      content_type=stored.content_type, expires=seconds)
    if direct is not None:
        return direct
    return url_for("files.download", token=make_download_token(stored.id, seconds),
                   _external=external)


def send_stored_file(stored: StoredFile) -> Response:
    """Answer with the file as a download. The caller has already checked permission.

    ``ObjectMissing`` if the backend lost the bytes.
    """
    backend = get_backend()
    path = backend.local_path(stored.key)
    if path is not None:
        if not path.is_file():
            raise ObjectMissing(stored.key)
        response = send_file(path, mimetype=stored.content_type, as_attachment=True,
                             download_name=stored.filename, conditional=True, max_age=None)
    else:
        stream = backend.open(stored.key)
        response = send_file(stream, mimetype=stored.content_type, as_attachment=True,
                             download_name=stored.filename, conditional=False, max_age=None)
        response.content_length = stored.size
    response.headers["Content-Disposition"] = content_disposition(stored.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    # Should a browser ever render it anyway, it gets no scripts and no origin.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# --- session hooks: no orphan objects after a rollback, no lost bytes after a commit -------

_UNCOMMITTED = "puente_storage_uncommitted"  # written in this transaction
_DELETE_ON_COMMIT = "puente_storage_delete_on_commit"  # rows deleted in this transaction


def _uncommitted(session: Session) -> list[tuple[StorageBackend, str]]:
    return cast(list[tuple[StorageBackend, str]], session.info.setdefault(_UNCOMMITTED, []))


def _forget(session: Session, key: str) -> None:
    pending = _uncommitted(session)
    pending[:] = [(b, k) for b, k in pending if k != key]


def _delete_quietly(backend: StorageBackend, key: str) -> None:
    try:
        backend.delete(key)
    except Exception:  # an orphan object is harmless; the cleanup job will find it
        log.warning("no se pudo borrar el objeto key=%s backend=%r", key, backend, exc_info=True)


@event.listens_for(db.session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint was released; the outer transaction decides
    session.info.pop(_UNCOMMITTED, None)
    for backend, key in session.info.pop(_DELETE_ON_COMMIT, []):
        _delete_quietly(backend, key)


@event.listens_for(db.session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return
    # Reaching here with entries left means the transaction ended without committing.
    for backend, key in session.info.pop(_UNCOMMITTED, []):
        _delete_quietly(backend, key)
    session.info.pop(_DELETE_ON_COMMIT, None)

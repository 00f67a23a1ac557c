"""marshmallow's stock English validation messages, said in Spanish.

Translated when the error response is built (so in the caller's locale), not when the schema
is declared. A message a schema writes itself is left as it is.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

_EXACT: dict[str, LazyString] = {
    "Missing data for required field.": _l("Este campo es obligatorio."),
    "Field may not be null.": _l("Este campo no puede ser nulo."),
    "Invalid value.": _l("Valor no válido."),
    "Unknown field.": _l("Campo desconocido."),
    "Invalid input type.": _l("Se esperaba un objeto JSON."),
    "Invalid type.": _l("Tipo de dato no válido."),
    "Not a valid string.": _l("Debe ser texto."),
    "Not a valid utf-8 string.": _l("Debe ser texto en UTF-8."),
    "Not a valid integer.": _l("Debe ser un número entero."),
    "Not a valid number.": _l("Debe ser un número."),
    "Not a valid boolean.": _l("Debe ser true o false."),
    "Not a valid list.": _l("Debe ser una lista."),
    "Not a valid tuple.": _l("Debe ser una lista."),
    "Not a valid mapping type.": _l("Debe ser un objeto JSON."),
    "Not a valid email address.": _l("Debe ser un correo electrónico válido."),
    "Not a valid URL.": _l("Debe ser una dirección web válida."),
    "Not a valid UUID.": _l("Debe ser un UUID válido."),
    "Not a valid date.": _l("Debe ser una fecha AAAA-MM-DD."),
    "Not a valid datetime.": _l("Debe ser una fecha y hora ISO 8601."),
    "Not a valid time.": _l("Debe ser una hora HH:MM."),
    "Special numeric values (nan or infinity) are not permitted.":
        _l("Debe ser un número finito."),
    "Invalid JSON body.": _l("El cuerpo no es JSON válido."),
}

_PATTERNS: list[tuple[re.Pattern[str], LazyString]] = [
    (re.compile(r"^Shorter than minimum length (?P<min>\d+)\.$"),
     _l("Debe tener al menos %(min)s caracteres o elementos.")),
    (re.compile(r"^Longer than maximum length (?P<max>\d+)\.$"),
     _l("Debe tener como máximo %(max)s caracteres o elementos.")),
    (re.compile(r"^Length must be between (?P<min>\d+) and (?P<max>\d+)\.$"),
     _l("Debe tener entre %(min)s y %(max)s caracteres o elementos.")),
    (re.compile(r"^Must be greater than or equal to (?P<min>\S+) and less than or equal to "
                r"(?P<max>\S+)\.$"),
     _l("Debe estar entre %(min)s y %(max)s.")),
    (re.compile(r"^Must be greater than or equal to (?P<min>\S+)\.$"),
     _l("Debe ser mayor o igual que %(min)s.")),
    (re.compile(r"^Must be less than or equal to (?P<max>\S+)\.$"),
     _l("Debe ser menor o igual que %(max)s.")),
    (re.compile(r"^Must be one of: (?P<choices>.*)\.$"),
     _l("Debe ser uno de: %(choices)s.")),
]


def _translate(message: str) -> str:
    exact = _EXACT.get(message)
    if exact is not None:
        return str(exact)
    for pattern, template in _PATTERNS:
        match = pattern.match(message)
        if match:
            return str(template) % match.groupdict()
    return message


def spanish_errors(value: Any) -> Any:
    """Field errors as plain JSON, stock messages in Spanish (lazy strings become ``str``)."""
    if isinstance(value, dict):
        return {str(k): spanish_errors(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [spanish_errors(v) for v in value]
    if isinstance(value, bool | int | float) or value is None:
        return value
    return _translate(str(value))

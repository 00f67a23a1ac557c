"""load Chile's territory (16 regions, 346 comunas) and the SENCE units

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 07:00:00

Reads app/territory/data/regions.csv and comunas.csv (official CUT codes; see SOURCES.md
there). Self-contained on purpose: it imports no application code, so it keeps working
whatever the models become later.
"""

from __future__ import annotations

import csv
from pathlib import Path

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

DATA_DIR = Path(__file__).resolve().parents[2] / "app/territory/data"

regions = sa.table(
    "regions",
    sa.column("code", sa.String),
    sa.column("name", sa.String),
    sa.column("iso_code", sa.String),
    sa.column("roman", sa.String),
    sa.column("position", sa.Integer),
)

comunas = sa.table(
    "comunas",
    sa.column("code", sa.String),
    sa.column("name", sa.String),
    sa.column("province", sa.String),
    sa.column("region_code", sa.String),
    sa.column("timezone", sa.String),
)

sence_units = sa.table(
    "sence_units",
    sa.column("level", sa.String),
    sa.column("region_code", sa.String),
    sa.column("name", sa.String),
    sa.column("email", sa.String),
    sa.column("address", sa.String),
)


def _read(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def upgrade() -> None:
    region_rows = [
        {"code": r["code"], "name": r["name"], "iso_code": r["iso_code"], "roman": r["roman"],
         "position": int(r["position"])}
        for r in _read("regions.csv")
    ]
    comuna_rows = [
        {"code": c["code"], "name": c["name"], "province": c["province"],
         "region_code": c["region_code"], "timezone": c["timezone"]}
        for c in _read("comunas.csv")
    ]
    if len(region_rows) != 16 or len(comuna_rows) != 346:
        raise RuntimeError(
            f"territory data incomplete: {len(region_rows)} regions, {len(comuna_rows)} comunas"
        )
    op.bulk_insert(regions, region_rows)
    op.bulk_insert(comunas, comuna_rows)

    units = [{"level": "national", "region_code": None, "name": "SENCE Nacional",
              "email": None, "address": None}]
    for r in sorted(region_rows, key=lambda r: r["position"]):
        units.append({"level": "regional", "region_code": r["code"],
                      "name": f"Dirección Regional SENCE {r['name']}",
                      "email": None, "address": None})
    op.bulk_insert(sence_units, units)


def downgrade() -> None:
    op.execute(sence_units.delete())
    op.execute(comunas.delete())
    op.execute(regions.delete())

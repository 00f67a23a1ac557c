"""Queueing a campaign to 50,000 recipients: how long it takes and how much memory it uses.

A script, not a test: ``.venv/bin/python benchmarks/campaign_queue.py [--postgresql]
[--recipients 50000] [--batch 1000]``. It:

1. creates a throwaway database (a SQLite file, or ``puente_bench_<pid>_<hex>`` on the
   PostgreSQL server of ``BENCH_PG_ADMIN_URL``), migrates it with the real migrations, and
   seeds through the services an office, its staff member and a published workshop;
2. bulk-inserts ``--recipients`` opted-in contacts of that office (a third prefer email, a
   third WhatsApp, a third SMS) and a few hundred who must not be reached (opted out, no
   consent, another office's);
3. creates and starts a campaign on email, WhatsApp and SMS and times ``services.queue_step``
   (the worker's job); then queues a second, identical campaign under ``tracemalloc`` for the
   memory peak (``--flat-check`` repeats it all with a tenth of the recipients, to show the
   peak does not grow with the list);
4. checks: exactly one outbox message per eligible person, none for the others, each on its
   person's preferred channel; prints the figures. Exit status 1 if a check fails.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from listing import make_app, throwaway_database  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402


def seed(app, recipients: int, extra_offices: int = 1) -> dict:  # type: ignore[no-untyped-def]
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from app.accounts.models import Role
    from app.accounts.services import create_user
    from app.activities.models import Modality
    from app.activities.services import SessionInput
    from app.extensions import db
    from app.people.models import Person
    from app.territory.models import Office, OfficeCategory, OfficeKind
    from app.timeutil import utcnow
    from workshops import services as workshops
    from workshops.models import Topic

    with app.app_context():
        office = Office(name="OMIL Ñuñoa (benchmark)", slug="omil-nunoa-bench", kind=OfficeKind.OMIL,
                        category=OfficeCategory.AVANZADA, comuna_code="13120", email="omil@example.cl")
        other = Office(name="OMIL Peñalolén (benchmark)", slug="omil-penalolen-bench", kind=OfficeKind.OMIL,
                       category=OfficeCategory.BASICA, comuna_code="13122", email="omil2@example.cl")
        db.session.add_all([office, other])
        db.session.commit()
        staff = create_user(email="staff@example.cl", name="Hilda Host", password=None, role=Role.OFFICE_STAFF,
                            office=office)
        topic_id = db.session.scalars(select(Topic.id).order_by(Topic.id)).first()
        tz = "America/Santiago"
        day = datetime.now(ZoneInfo(tz)).date() + timedelta(days=20)
        start = datetime(day.year, day.month, day.day, 10, 0)
        first = SessionInput(start_local=start, end_local=start + timedelta(hours=2), timezone=tz,
                             modality=Modality.REMOTE, capacity=500, join_url="https://meet.jit.si/puente-bench")
        w = workshops.create_workshop(workshops.WorkshopData(title="Apresto laboral: entrevista", description="-",
                                                             topic_id=topic_id, host_office_id=office.id),
                                      workshops.Schedule(first=first, count=1), actor=staff,
                                      confirm_warnings=True, confirm_facilitator=True)
        workshops.publish(w, actor=staff)
        now = utcnow()
        channels = ["email", "whatsapp", "sms"]
        rows = []
        for n in range(recipients + 300):
            eligible = n < recipients
            rows.append({
                "first_names": "Persona", "last_names": f"N° {n}", "document_type": "passport",
                "document_number": f"BENCH{n:07d}", "email": f"p{n}@example.cl", "phone": f"+5697{n:07d}"[:12],
                "comuna_code": "13120", "preferred_channel": channels[n % 3],
                "consent_data_at": now if (eligible or n % 3 != 0) else None, "consent_version": "bench",
                "opt_in_future": True, "opt_in_at": now,
                "opted_out_at": None if (eligible or n % 3 != 1) else now,
                "office_id": office.id if (eligible or n % 3 != 2) else other.id,
                "interests": "", "needs_subtitles": False, "needs_sign_language": False, "uses_screen_reader": False,
                "accessibility_other": "", "connectivity": "good", "soft_skills": "", "rural": False,
                "availability": "", "consent_recording": False, "created_at": now, "updated_at": now,
            })
            if len(rows) == 5000:
                db.session.execute(insert(Person), rows)
                rows = []
        if rows:
            db.session.execute(insert(Person), rows)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":  # statistics, as autovacuum keeps them in a database in use
            with db.engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE")
                conn.commit()
        return {"activity_id": w.activity.id, "staff_id": staff.id}


def run(postgresql: bool, recipients: int, batch: int) -> tuple[list[tuple[str, str]], bool]:
    from app.dissemination import services
    from app.extensions import db
    from app.outbox.models import OutboxMessage
    from app.people.models import Person

    lines: list[tuple[str, str]] = []
    ok = True
    with throwaway_database(postgresql) as (url, workdir):
        app = make_app(url, workdir)
        began = time.perf_counter()
        facts = seed(app, recipients)
        lines.append(("seed", f"{recipients:,} contacts in {time.perf_counter() - began:.1f} s"))
        with app.app_context():
            from app.accounts.models import User

            def new_step() -> tuple[int, int]:
                staff = db.session.get(User, facts["staff_id"])
                campaign = services.create_campaign(services.CampaignInput(
                    name="Benchmark", activity_id=facts["activity_id"], message_short="{titulo} {fecha} {enlace}",
                    message_long="{titulo} {fecha} {hora} {lugar} {enlace}", channels=["email", "whatsapp", "sms"],
                    schedule="now"), staff)
                services.start_campaign(campaign, staff)
                [step] = services.due_steps()
                return campaign.id, step

            # Timed without tracemalloc (it slows allocation-heavy code several times over) ...
            campaign_id, step_id = new_step()
            db.session.remove()
            t0 = time.perf_counter()
            queued = services.queue_step(step_id, batch=batch)
            elapsed = time.perf_counter() - t0
            # ... and a second, identical campaign queued under tracemalloc for the memory peak.
            _other, traced_step = new_step()
            db.session.remove()
            gc.collect()
            tracemalloc.start()
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            services.queue_step(traced_step, batch=batch)
            _current, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            total = db.session.scalar(select(func.count()).select_from(OutboxMessage)
                                      .where(OutboxMessage.campaign_id == campaign_id))
            distinct = db.session.scalar(select(func.count(func.distinct(OutboxMessage.dedupe_key)))
                                         .where(OutboxMessage.campaign_id == campaign_id))
            wrong_channel = db.session.scalar(
                select(func.count()).select_from(OutboxMessage)
                .join(Person, OutboxMessage.dedupe_key == (f"campaign:{step_id}:p" + func.cast(Person.id, db.String)))
                .where(OutboxMessage.campaign_id == campaign_id, OutboxMessage.channel != Person.preferred_channel))
            lines += [
                ("database", "PostgreSQL" if postgresql else "SQLite"),
                ("queued", f"{queued:,} messages in {elapsed:.2f} s ({queued / elapsed:,.0f} per second)"),
                ("batch", f"{batch:,} people per transaction"),
                ("Python memory peak while queueing (tracemalloc)", f"{peak / 2**20:.1f} MiB"),
                ("process max RSS before / after", f"{rss_before / 1024:.0f} / {rss_after / 1024:.0f} MiB"),
            ]
            checks = [
                ("one message per eligible person", total == recipients == queued, f"{total:,} of {recipients:,}"),
                ("no duplicates", distinct == total, f"{distinct:,} distinct keys"),
                ("each on the person's preferred channel", wrong_channel == 0, f"{wrong_channel} on another"),
            ]
            for name, passed, detail in checks:
                lines.append((("[ok] " if passed else "[FAIL] ") + name, detail))
                ok = ok and passed
    return lines, ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgresql", action="store_true", help="use a throwaway PostgreSQL database")
    parser.add_argument("--recipients", type=int, default=50_000, help="eligible contacts (50000)")
    parser.add_argument("--batch", type=int, default=1000, help="people per transaction (1000)")
    parser.add_argument("--flat-check", action="store_true",
                        help="also run with a tenth of the recipients and compare memory peaks")
    args = parser.parse_args(argv)
    logging.getLogger("puente").setLevel(logging.WARNING)
    print(f"load average before the run: {os.getloadavg()[0]:.1f}")
    runs = [args.recipients] + ([max(args.recipients // 10, 1)] if args.flat_check else [])
    all_ok = True
    for n in runs:
        lines, ok = run(args.postgresql, n, args.batch)
        all_ok = all_ok and ok
        print(f"\n{n:,} recipients")
        for name, value in lines:
            print(f"  {name:<48} {value}")
    return 0 if all_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

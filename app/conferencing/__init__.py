"""Video sessions: the providers that make rooms for remote sessions, and the join pages.

Built in ``app/`` so that workshops and fair booths share it. Domain packages add what is
theirs through the signal below; the core never imports them.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: sender: the ActivitySession shown on a join page. Receivers return a list of short
#: strings (accessibility offered: subtitles, sign language...) to list on the page.
join_page_accessibility = _signals.signal("join-page-accessibility")


def accessibility_offered(session: object) -> tuple[str, ...]:
    """The labels the activity's domain offers for this session (``join_page_accessibility``),
    without repeats, in order: the join page and every announcement list the same."""
    offered: list[str] = []
    for _receiver, result in join_page_accessibility.send(session):
        for item in result or ():
            label = " ".join(str(item).split())
            if label and label not in offered:
                offered.append(label)
    return tuple(offered)

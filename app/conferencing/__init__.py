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

"""The shared notion of a scheduled activity (a workshop or a fair) and its sessions.

Registration, dissemination, iCalendar and conferencing work against these models; the
``workshops`` and ``fairs`` packages add only what is theirs, in tables of their own.
"""

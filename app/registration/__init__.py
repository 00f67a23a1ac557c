"""Registrations for activity sessions: seats, waitlist, personal links, attendance."""

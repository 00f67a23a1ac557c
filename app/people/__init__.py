"""Jobseekers (personas usuarias): profile, consent and contact preferences."""

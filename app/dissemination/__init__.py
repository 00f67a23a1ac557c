"""Dissemination: campaigns, channels, delivery outbox, tracked links, and the web, poster and radio outputs."""

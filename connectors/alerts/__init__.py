"""Alerts to account owners: Slack messages and email, each alert sent once (``delivery``)."""

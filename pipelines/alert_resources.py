"""Resources of the alert sinks (Slack, email); their secrets only ever come from the environment."""

from __future__ import annotations

from dagster import ConfigurableResource, EnvVar

from connectors.alerts.slack import WEBHOOK_ENV_VAR, SlackWebhook
from connectors.alerts.smtp import PASSWORD_ENV_VAR, SmtpMailer
from enrichment.settings import AlertSettings
from pipelines.settings_resource import SettingsResource

# The environment variables holding each alert sink's secrets (only ever read through EnvVar).
ALERT_SECRET_ENV_VARS = {"slack_alerts": (WEBHOOK_ENV_VAR,), "email_alerts": (PASSWORD_ENV_VAR,)}


class SlackAlertsResource(ConfigurableResource):
    """A Slack channel's incoming webhook; the URL is the secret (VISITOR_INTENT_SLACK_WEBHOOK_URL)."""

    webhook_url: str

    def client(self) -> SlackWebhook:
        return SlackWebhook(self.webhook_url)


class EmailAlertsResource(ConfigurableResource):
    """An SMTP server (``alerts.email`` in the settings); the password only ever comes from
    VISITOR_INTENT_SMTP_PASSWORD."""

    settings: SettingsResource
    password: str | None = None

    def mailer(self) -> SmtpMailer:
        email = self.settings.get().alerts.email
        return SmtpMailer(
            email.host,
            email.port,
            sender=email.sender,
            security=email.security,
            username=email.username,
            password=self.password,
        )


def alert_resources(settings: SettingsResource, alerts: AlertSettings) -> dict[str, ConfigurableResource]:
    """One resource per enabled alert sink."""
    resources: dict[str, ConfigurableResource] = {}
    if alerts.slack.enabled:
        resources["slack_alerts"] = SlackAlertsResource(webhook_url=EnvVar(WEBHOOK_ENV_VAR))
    if alerts.email.enabled:
        resources["email_alerts"] = EmailAlertsResource(
            settings=settings, password=EnvVar(PASSWORD_ENV_VAR) if alerts.email.username else None
        )
    return resources

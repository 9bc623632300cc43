"""Everything a run needs, checked before it writes anything; and the user's mistake behind a failure.

A mistake a user can fix (a wrong path, a broken account list, an unset secret) is one
line naming the file or variable and the fix, wherever it is found: here before the
run, or inside Dagster during it (``user_error`` finds it under Dagster's wrapping).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from connectors.crm.transport import CrmAuthError
from connectors.hits import ColumnMappingError, UnknownLogFormat
from connectors.maxmind import MaxMindDatabaseError
from connectors.migrations import SchemaVersionError, ensure_current
from enrichment.errors import ConfigError
from pipelines.alert_resources import ALERT_SECRET_ENV_VARS, EmailAlertsResource
from pipelines.crm_resources import CRM_SECRET_ENV_VARS
from pipelines.resources import IntentRulesResource, MaxMindResource

# Mistakes a user can fix from the message alone.
USER_ERRORS = (
    ConfigError,
    MaxMindDatabaseError,
    UnknownLogFormat,
    ColumnMappingError,
    FileNotFoundError,
    CrmAuthError,
    SchemaVersionError,
)


def preflight(resources: Mapping[str, object], *, hits: list[Path] = ()) -> None:
    """Check the log files given, the account list, the taxonomy, the classification rules, the
    visitor salt, every MaxMind file and the secrets of each enabled CRM and alert sink (set, never
    read); raise the first user error found. Then bring the warehouse's schema up to date (the first write)."""
    for path in hits:
        if not Path(path).is_file():
            raise FileNotFoundError(f"{path}: no such log file (check the path given to --hits)")
    rules: IntentRulesResource = resources["rules"]
    rules.target_accounts()
    rules.taxonomy()
    rules.classification_rules()
    rules.salt()
    maxmind: MaxMindResource = resources["maxmind"]
    maxmind.open().close()
    for crm, variables in CRM_SECRET_ENV_VARS.items():
        if crm not in resources:
            continue
        for variable in variables:
            if not os.environ.get(variable):
                raise ConfigError(
                    f"{variable} is not set: export it before the run (crm.{crm}.enabled is true in the settings), "
                    f"or turn {crm} off there"
                )
    _check_alert_secrets(resources)
    # Configured from the environment (EnvVar): resolved as a run would resolve it.
    ensure_current(resources["warehouse"].process_config_and_initialize().get().engine)


def _check_alert_secrets(resources: Mapping[str, object]) -> None:
    """Each enabled alert sink's secret is set (SMTP's only when the server wants a login)."""
    for key, variables in ALERT_SECRET_ENV_VARS.items():
        resource = resources.get(key)
        if resource is None or (isinstance(resource, EmailAlertsResource) and resource.password is None):
            continue
        sink = key.removesuffix("_alerts")
        for variable in variables:
            if not os.environ.get(variable):
                raise ConfigError(
                    f"{variable} is not set: export it before the run (alerts.{sink}.enabled is true in the "
                    f"settings), or turn {sink} alerts off there"
                )


def user_error(error: BaseException) -> BaseException | None:
    """The user's mistake that ``error`` is, or that caused it (Dagster wraps what assets raise)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, USER_ERRORS):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None

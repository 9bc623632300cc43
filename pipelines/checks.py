"""Asset checks judged per partition, also in a run that covers many days.

Dagster 1.13 attaches an ``AssetCheckResult`` to a partition only when the run covers
exactly one partition: in a run over several days it records one result without a
partition, and each day's planned check is left showing as skipped. So our assets
record one ``AssetCheckEvaluation`` event per partition they judge, naming it. The
check's own output is then never returned, which its asset allows by being subsettable
(``can_subset=True``; it yields only the outputs selected, see ``selected``).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

from dagster import (
    AssetCheckEvaluation,
    AssetCheckKey,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    PartitionsDefinition,
    PreviewWarning,
)


def partition_check(name: str, asset: str, partitions: PartitionsDefinition, description: str) -> AssetCheckSpec:
    """A check whose results belong to the asset's partitions (a preview feature in Dagster 1.13)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PreviewWarning)
        return AssetCheckSpec(name, asset=asset, partitions_def=partitions, description=description)


def record_check(
    context: AssetExecutionContext,
    asset: str,
    name: str,
    partition_key: str,
    *,
    passed: bool,
    metadata: Mapping[str, Any],
    severity: AssetCheckSeverity = AssetCheckSeverity.ERROR,
) -> None:
    """Record the check ``name`` on one partition of ``asset`` (when the run selected the check)."""
    asset_key = AssetKey(asset)
    if AssetCheckKey(asset_key, name) not in context.selected_asset_check_keys:
        return
    context.log_event(
        AssetCheckEvaluation(
            asset_key=asset_key,
            check_name=name,
            passed=passed,
            metadata=metadata,
            severity=severity,
            partition=partition_key,
        )
    )


def selected(context: AssetExecutionContext, asset: str) -> bool:
    """Whether the run materialises ``asset`` (a subsettable asset yields only what is selected)."""
    return AssetKey(asset) in context.selected_asset_keys

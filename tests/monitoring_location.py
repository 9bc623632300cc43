"""A code location for the run-monitoring test: two CRM deliveries, the first slow enough to be killed.

They carry the tags of the real `crm_delivery_job`, so the instance's queue limit for CRM
deliveries applies to them as to it.
"""

import time

from dagster import Definitions, in_process_executor, job, op

from pipelines.schedules import build_crm_job

CRM_TAGS = build_crm_job().tags


@op
def deliver_slowly() -> None:
    time.sleep(600)


@op
def deliver() -> None:
    pass


@job(tags=CRM_TAGS)
def slow_delivery() -> None:
    deliver_slowly()


@job(tags=CRM_TAGS)
def next_delivery() -> None:
    deliver()


defs = Definitions(jobs=[slow_delivery, next_delivery], executor=in_process_executor)

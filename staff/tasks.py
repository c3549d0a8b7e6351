"""Thin Celery wrappers around staff services."""

from celery import shared_task

from staff import services


# Closed days' analytics rollups: built and rebuilt as their rows change (a job finishing
# late, a refund). The report is exact without it (it computes unbuilt days from the rows);
# the schedule only bounds how many days it has to compute that way.
@shared_task(name="staff.metrics_rollups_refresh")
def metrics_rollups_refresh_task() -> int:
    return services.metrics_rollups_refresh()

"""A generation deleted while it runs gives its held credits back (see common.jobs)."""

from django.db.models.signals import pre_delete
from django.dispatch import receiver

from common.jobs import job_deleted_release_hold
from headshots.models import HeadshotGeneration
from headshots.services import RUNNING


@receiver(pre_delete, sender=HeadshotGeneration, dispatch_uid="headshots.release_on_delete")
def release_hold_of_running_generation(sender, instance: HeadshotGeneration, **kwargs) -> None:
    if instance.status in RUNNING:
        job_deleted_release_hold(hold_key=instance.hold_key)

"""A version deleted while it runs gives its held credits back (see common.jobs)."""

from django.db.models.signals import pre_delete
from django.dispatch import receiver

from characters.models import CharacterImageVersion
from characters.selectors import RUNNING
from common.jobs import job_deleted_release_hold


@receiver(pre_delete, sender=CharacterImageVersion, dispatch_uid="characters.release_on_delete")
def release_hold_of_running_version(sender, instance: CharacterImageVersion, **kwargs) -> None:
    if instance.status in RUNNING:
        job_deleted_release_hold(hold_key=instance.hold_key)

"""Drop the cached site settings whenever Django settings change (tests' `settings` fixture)
or the database is migrated or flushed (a flushed row must not live on in the cache)."""

from django.core.signals import setting_changed
from django.db.models.signals import post_migrate
from django.dispatch import receiver

from staff.selectors import site_settings_clear_cache


@receiver(setting_changed, dispatch_uid="staff.site_settings.setting_changed")
def _setting_changed(**kwargs) -> None:
    site_settings_clear_cache()


@receiver(post_migrate, dispatch_uid="staff.site_settings.post_migrate")
def _migrated(**kwargs) -> None:
    site_settings_clear_cache()

"""One active version per character: the service's row lock and the database's own
partial unique index; under real concurrency on PostgreSQL."""

import threading

import pytest
from django.db import IntegrityError, close_old_connections, connection, transaction

from characters import selectors, services
from characters.models import CharacterImageVersion, CharacterView
from tests.characters.conftest import finished_version
from tests.conftest import needs_postgres


@pytest.mark.django_db
def test_the_database_refuses_a_second_active_version(studio, media):
    character = studio["character"]
    finished_version(character, studio["alice"], number=1, active=True)
    second = finished_version(character, studio["alice"], number=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        CharacterImageVersion.objects.filter(pk=second.pk).update(is_active=True)


@pytest.mark.django_db
def test_the_database_refuses_an_active_version_that_is_not_finished(studio, media):
    version = finished_version(studio["character"], studio["alice"], number=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        CharacterImageVersion.objects.filter(pk=version.pk).update(status="queued", is_active=True)


@pytest.mark.django_db
def test_two_characters_each_have_their_own_active_version(studio, media):
    other = services.character_create(
        actor=studio["alice"], project_id=studio["project"].pk, name="Jonah"
    )
    a = finished_version(studio["character"], studio["alice"], number=1, active=True)
    b = finished_version(other, studio["alice"], number=1, active=True)
    assert a.is_active and b.is_active


@pytest.mark.django_db
def test_activation_moves_the_flag_and_the_characters_image(studio, media):
    character = studio["character"]
    v1 = finished_version(character, studio["alice"], number=1, active=True)
    v2 = finished_version(character, studio["alice"], number=2)
    services.version_activate(actor=studio["bob"], character_id=character.pk, version_id=v2.pk)
    v1.refresh_from_db()
    character.refresh_from_db()
    assert not v1.is_active
    assert character.image.name == v2.image.name
    assert selectors.active_version(character) == v2


@pytest.mark.django_db
def test_the_last_viewed_version_falls_back_to_the_active_one_when_deleted(studio, media):
    character = studio["character"]
    v1 = finished_version(character, studio["alice"], number=1, active=True)
    v2 = finished_version(character, studio["alice"], number=2)
    services.version_view(actor=studio["bob"], character_id=character.pk, version_id=v2.pk)
    assert selectors.version_last_viewed(user=studio["bob"], character=character) == v2
    services.version_delete(actor=studio["alice"], character_id=character.pk, version_id=v2.pk)
    assert not CharacterView.objects.exists()
    assert selectors.version_last_viewed(user=studio["bob"], character=character) == v1


@pytest.mark.django_db
def test_deleting_a_version_deletes_its_files(studio, media):
    character = studio["character"]
    version = finished_version(character, studio["alice"], number=1, active=True)
    paths = [media / version.image.name, media / version.thumbnail.name]
    assert all(path.exists() for path in paths)
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        services.version_delete(
            actor=studio["alice"], character_id=character.pk, version_id=version.pk
        )
    assert not any(path.exists() for path in paths)


@pytest.mark.django_db(transaction=True)
def test_concurrent_activations_leave_exactly_one_active_version(studio, media):
    """Eight threads, eight versions, all activated at once, five rounds: every call
    succeeds and exactly one version is active, the one the character shows."""
    needs_postgres()
    character = studio["character"]
    versions = [
        finished_version(character, studio["alice"], number=n, active=(n == 1)) for n in range(1, 9)
    ]
    users = [studio["alice"], studio["bob"], studio["admin"]]
    for _round in range(5):
        barrier = threading.Barrier(len(versions))
        errors: list[BaseException] = []

        def activate(version, user, barrier=barrier, errors=errors):
            try:
                barrier.wait(timeout=10)
                services.version_activate(
                    actor=user, character_id=character.pk, version_id=version.pk
                )
            except BaseException as error:  # collected and asserted below
                errors.append(error)
            finally:
                close_old_connections()
                connection.close()

        threads = [
            threading.Thread(target=activate, args=(version, users[i % len(users)]))
            for i, version in enumerate(versions)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert errors == []
        active = list(CharacterImageVersion.objects.filter(character=character, is_active=True))
        assert len(active) == 1
        character.refresh_from_db()
        assert character.image.name == active[0].image.name

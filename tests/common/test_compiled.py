"""common.compiled.CompiledQuery: the ORM's rows, from SQL compiled once."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from common.compiled import CompiledQuery
from headshots.models import HeadshotGeneration
from tests.factories import finished_generation, team_member

pytestmark = pytest.mark.django_db


def _fields(instance, names):
    return {name: getattr(instance, name) for name in names}


def test_rows_equal_the_querysets_own_with_select_related_and_deferred_columns(media):
    user = team_member()
    generation = finished_generation(user)
    other = finished_generation(user, status="failed")

    def build(generation_id, user_id):
        return (
            HeadshotGeneration.objects.filter(pk=generation_id, user_id=user_id)
            .select_related("style")
            .only("id", "status", "created_at", "finished_at", "style__slug", "style__name")
        )

    query = CompiledQuery(build, "generation_id", "user_id")
    for row in (generation, other):
        (expected,) = build(row.pk, user.pk)
        (found,) = query.fetch(generation_id=row.pk, user_id=user.pk)
        names = ["id", "status", "created_at", "finished_at"]
        assert _fields(found, names) == _fields(expected, names)
        assert found.created_at.tzinfo is not None  # the ORM's converters ran
        assert (found.style.slug, found.style.name) == (expected.style.slug, expected.style.name)
        assert found.get_deferred_fields() == expected.get_deferred_fields()


def test_each_call_is_one_query_and_other_ids_find_nothing(user, django_assert_num_queries):
    query = CompiledQuery(lambda user_id: User.objects.filter(pk=user_id), "user_id")
    query.first(user_id=user.pk)  # compiles
    with django_assert_num_queries(1):
        assert query.first(user_id=user.pk) == user
    assert query.first(user_id=user.pk + 10_000) is None


def test_the_sql_is_compiled_once_per_database(user):
    built = []

    def build(user_id):
        built.append(user_id)
        return User.objects.filter(pk=user_id)

    query = CompiledQuery(build, "user_id")
    for _ in range(3):
        query.fetch(user_id=user.pk)
    assert len(built) == 1
    with CaptureQueriesContext(connection) as queries:
        query.fetch(user_id=user.pk)
    assert "%s" not in queries.captured_queries[0]["sql"]  # the value was bound


def test_a_parameter_the_orm_would_change_is_refused_when_compiling():
    # a text column turns the id into a string: it does not reach the SQL unchanged
    query = CompiledQuery(lambda user_id: User.objects.filter(email=user_id), "user_id")
    with pytest.raises(ValueError, match="did not reach the SQL"):
        query.fetch(user_id=1)


def test_only_int_ids_are_accepted(user):
    query = CompiledQuery(lambda user_id: User.objects.filter(pk=user_id), "user_id")
    with pytest.raises(TypeError):
        query.fetch(user_id=str(user.pk))


def test_prefetching_is_refused():
    query = CompiledQuery(
        lambda user_id: User.objects.filter(pk=user_id).prefetch_related("groups"), "user_id"
    )
    with pytest.raises(ValueError, match="plain rows"):
        query.fetch(user_id=1)


def _generations_by(user_id, status):
    return HeadshotGeneration.objects.filter(user_id=user_id, status=status).order_by("id")


def test_text_parameters_are_bound_like_ids(media):
    user = team_member()
    done = [finished_generation(user) for _ in range(2)]
    failed = finished_generation(user, status="failed")
    query = CompiledQuery(_generations_by, "user_id", texts=["status"])
    assert [g.pk for g in query.fetch(user_id=user.pk, status="completed")] == [g.pk for g in done]
    assert [g.pk for g in query.fetch(user_id=user.pk, status="failed")] == [failed.pk]
    assert query.fetch(user_id=user.pk, status="it's; DROP TABLE x") == []
    with pytest.raises(TypeError):
        query.fetch(user_id=user.pk, status=1)
    with pytest.raises(TypeError):  # every declared parameter, and no other
        query.fetch(user_id=user.pk)


def test_a_window_of_rows_is_bound_and_the_windows_cover_every_row_once(
    media, django_assert_num_queries
):
    user = team_member()
    made = [finished_generation(user).pk for _ in range(5)]
    query = CompiledQuery(_generations_by, "user_id", texts=["status"])
    query.fetch(user_id=user.pk, status="completed", limit=1)  # compiles
    with django_assert_num_queries(3):
        pages = [
            [g.pk for g in query.fetch(user_id=user.pk, status="completed", limit=2, offset=at)]
            for at in (0, 2, 4)
        ]
    assert pages == [made[0:2], made[2:4], made[4:5]]
    with pytest.raises(TypeError):
        query.fetch(user_id=user.pk, status="completed", limit=-1)


def test_count_counts_what_fetch_returns_distinct_rows_once(media):
    user = team_member()
    two_favourites = finished_generation(user, n_images=2)
    two_favourites.images.update(is_favorite=True)
    finished_generation(user)

    def build(user_id):
        return (
            HeadshotGeneration.objects.filter(user_id=user_id, images__is_favorite=True)
            .distinct()
            .order_by("-id")
        )

    query = CompiledQuery(build, "user_id")
    assert query.count(user_id=user.pk) == build(user.pk).count() == 1
    assert [g.pk for g in query.fetch(user_id=user.pk)] == [two_favourites.pk]
    everything = CompiledQuery(_generations_by, "user_id", texts=["status"])
    assert everything.count(user_id=user.pk, status="completed") == 2
    assert everything.count(user_id=user.pk + 10_000, status="completed") == 0


def test_a_sliced_query_takes_no_limit(user):
    query = CompiledQuery(lambda user_id: User.objects.filter(pk=user_id)[:1], "user_id")
    assert query.fetch(user_id=user.pk) == [user]
    with pytest.raises(ValueError, match="sliced already"):
        query.fetch(user_id=user.pk, limit=1)


def test_instances_are_the_ones_from_db_builds_and_save_like_them(media):
    user = team_member()
    generation = finished_generation(user, n_images=2)

    def build(generation_id):
        from headshots.models import GeneratedImage

        return GeneratedImage.objects.filter(generation_id=generation_id).only(
            "image", "thumbnail", "generation", "index", "credits"
        )

    expected = {row.pk: row for row in build(generation.pk)}
    for found in CompiledQuery(build, "generation_id").fetch(generation_id=generation.pk):
        reference = expected[found.pk]
        assert {k: v for k, v in vars(found).items() if k != "_state"} == {
            k: v for k, v in vars(reference).items() if k != "_state"
        }
        assert (found._state.adding, found._state.db) == (False, "default")
        assert found.image.name == reference.image.name and found.image.url
        assert found.get_deferred_fields() == reference.get_deferred_fields()
        found.credits = 7
        found.save(update_fields=["credits"])
        assert type(found).objects.get(pk=found.pk).credits == 7


def test_a_model_with_init_signals_is_built_by_from_db(user):
    from django.db.models.signals import post_init

    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance.pk)

    post_init.connect(receiver, sender=User)
    try:
        query = CompiledQuery(lambda user_id: User.objects.filter(pk=user_id), "user_id")
        assert query.first(user_id=user.pk) == user
    finally:
        post_init.disconnect(receiver, sender=User)
    assert seen == [user.pk]


def test_a_parameter_used_both_as_it_is_and_changed_is_refused():
    # the changed copy (pk > user_id + 1) would stay frozen to the placeholder's value
    query = CompiledQuery(
        lambda user_id: User.objects.filter(pk=user_id) | User.objects.filter(pk=user_id + 1),
        "user_id",
    )
    with pytest.raises(ValueError, match="changed as well as unchanged"):
        query.fetch(user_id=1)
    texts = CompiledQuery(
        lambda email: User.objects.filter(email=email) | User.objects.filter(email__contains=email),
        texts=["email"],
    )
    with pytest.raises(ValueError, match="changed as well as unchanged"):
        texts.fetch(email="a@example.com")


@pytest.mark.parametrize(
    "names, texts", [(("user_id",), ("user_id",)), (("limit",), ()), ((), ("using",))]
)
def test_parameter_names_that_would_clash_are_refused(names, texts):
    with pytest.raises(ValueError, match="taken"):
        CompiledQuery(lambda **_: User.objects.all(), *names, texts=texts)


def test_a_sliced_query_is_not_counted(user):
    query = CompiledQuery(lambda user_id: User.objects.filter(pk=user_id)[:1], "user_id")
    with pytest.raises(ValueError, match="sliced already"):
        query.count(user_id=user.pk)


def test_rows_of_a_column_whose_descriptor_works_when_set_are_built_by_from_db(user, monkeypatch):
    from django.db.models.query_utils import DeferredAttribute

    from common.compiled import _builds_plainly
    from headshots.models import GeneratedImage, HeadshotGeneration

    every_column = [[f.attname for f in m._meta.concrete_fields] for m in (User,)]
    assert _builds_plainly(User, every_column[0])
    for model in (HeadshotGeneration, GeneratedImage):  # the answers' rows: FKs and files
        assert _builds_plainly(model, [f.attname for f in model._meta.concrete_fields])

    set_values = []

    class Recording(DeferredAttribute):
        def __set__(self, instance, value):
            set_values.append(value)
            instance.__dict__[self.field.attname] = value

    monkeypatch.setattr(User, "email", Recording(User._meta.get_field("email")))
    query = CompiledQuery(lambda user_id: User.objects.filter(pk=user_id), "user_id")
    assert query.first(user_id=user.pk).email == user.email
    assert set_values == [user.email]

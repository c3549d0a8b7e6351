"""Reads of headshots, always within what the actor may see."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import ExtractHour, TruncDate

from common.compiled import CompiledQuery
from common.errors import NotFound, object_id
from common.periods import Spans, within
from headshots.models import (
    GeneratedImage,
    HeadshotGeneration,
    HeadshotStyle,
    Status,
    TeamStylePolicy,
)

__all__ = ["Status"]  # what the staff report counts by


def styles_active() -> QuerySet[HeadshotStyle]:
    return HeadshotStyle.objects.filter(is_active=True).order_by("sort_order", "name")


def style_policy_for_team(*, team) -> TeamStylePolicy | None:
    return TeamStylePolicy.objects.filter(team=team).prefetch_related("allowed_styles").first()


# Cached style lists live this long at most; the key changes as soon as a style or a
# team's policy does, so this only bounds memory and the age of a cached S3 sample URL
# (presigned for an hour).
STYLES_CACHE_SECONDS = 300


@dataclass(frozen=True)
class StyleCatalogue:
    """What a team may pick from, as of one query: a fingerprint of every style row and
    the ids the team's policy allows (empty: every active style)."""

    fingerprint: str
    allowed: frozenset[int]

    @property
    def cache_key(self) -> str:
        """Changes when any style or this team's allowed set changes."""
        ids = ",".join(str(pk) for pk in sorted(self.allowed))
        return f"{self.fingerprint}:{hashlib.sha256(ids.encode()).hexdigest()[:16]}"


def _styles_fingerprint_sql() -> str:
    table = connection.ops.quote_name(HeadshotStyle._meta.db_table)
    if connection.vendor == "postgresql":
        # Every column of every row: any change, however it was written, changes it.
        fingerprint = "md5(string_agg(s::text, ',' ORDER BY s.id))"
    else:
        # Elsewhere (SQLite, the embedded default) writers go through save(), which bumps
        # updated_at; a deleted row changes the count and the sum of ids.
        fingerprint = "COUNT(*) || ':' || COALESCE(MAX(updated_at), '') || ':' || SUM(id)"
    return f"SELECT {fingerprint} FROM {table} s"  # noqa: S608 - the table name is ours


def style_catalogue(*, team) -> StyleCatalogue:
    """One query, no cache: the version of the style list and the team's allowed ids."""
    through = TeamStylePolicy.allowed_styles.through
    qn = connection.ops.quote_name
    sql = (
        f"SELECT 0, ({_styles_fingerprint_sql()}), NULL"  # noqa: S608 - table names from _meta
        " UNION ALL"
        f" SELECT 1, NULL, t.{qn(through._meta.get_field('headshotstyle').column)}"
        f" FROM {qn(TeamStylePolicy._meta.db_table)} p"
        f" JOIN {qn(through._meta.db_table)} t"
        f" ON t.{qn(through._meta.get_field('teamstylepolicy').column)} = p.id"
        f" WHERE p.{qn(TeamStylePolicy._meta.get_field('team').column)} = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [team.pk])
        rows = cursor.fetchall()
    fingerprint = next((value for part, value, _ in rows if part == 0), None) or "empty"
    return StyleCatalogue(
        # hashed: a safe cache key whatever the database made of it (SQLite: a timestamp)
        fingerprint=f"v1:{hashlib.sha256(str(fingerprint).encode()).hexdigest()[:32]}",
        allowed=frozenset(style_id for part, _, style_id in rows if part == 1),
    )


def styles_for_team(*, team, catalogue: StyleCatalogue | None = None) -> list[HeadshotStyle]:
    """Active styles, narrowed to the team admin's choice when they made one.

    One query (the catalogue) when the list is cached under the current fingerprint, one
    more when it is not: every member call (config, estimate, submit) reads this, and the
    rows change only when staff or a team admin edit them.
    """
    catalogue = catalogue or style_catalogue(team=team)
    key = f"headshots:styles:{catalogue.fingerprint}"
    styles = cache.get(key)
    if styles is None:
        styles = list(styles_active())
        cache.set(key, styles, STYLES_CACHE_SECONDS)
    if catalogue.allowed:
        styles = [s for s in styles if s.pk in catalogue.allowed]
    return styles


def style_options_for_team(*, team) -> list[dict]:
    """The team's styles as the member's app is told them (the config answer; its shape
    is documented by headshots.apis.StyleSerializer), as plain JSON values.

    Kept under the catalogue's version like `styles_for_team`: one query a call while no
    style and no policy of the team changes, and the list is built once per version, not
    once a request.
    """
    catalogue = style_catalogue(team=team)
    key = f"headshots:config-styles:{catalogue.cache_key}"
    options = cache.get(key)
    if options is None:
        options = [
            {
                "slug": str(style.slug),
                "name": str(style.name),
                "description": str(style.description),
                "category": str(style.category),
                "is_premium": bool(style.is_premium),
                "base_cost": int(style.base_cost),
                # presigned on S3: STYLES_CACHE_SECONDS keeps it younger than its hour
                "sample_url": style.sample.url if style.sample else None,
            }
            for style in styles_for_team(team=team, catalogue=catalogue)
        ]
        cache.set(key, options, STYLES_CACHE_SECONDS)
    return options


def headshots_visible(*, user, team_id: int | None = None) -> QuerySet[HeadshotGeneration]:
    """The member's own, not deleted (within one team, for a team API key). Every read of
    generations starts here."""
    qs = HeadshotGeneration.objects.filter(user=user, deleted_at__isnull=True)
    return qs if team_id is None else qs.filter(team_id=team_id)


def _with_images(qs: QuerySet[HeadshotGeneration]) -> QuerySet[HeadshotGeneration]:
    return qs.select_related("style").prefetch_related(
        Prefetch(
            "images",
            queryset=GeneratedImage.objects.filter(deleted_at__isnull=True).order_by("index"),
        )
    )


# The columns the API's answer for a generation reads (headshots.apis.GenerationSerializer
# and ImageSerializer), and no more: the poll and the history skip the JSON metadata, the
# idempotency and batch columns and the style's description and prompts. A column the
# answer reads and these lack costs a query per row: tests/common/test_query_counts.py
# and tests/headshots/test_read_query_counts.py would count it.
ANSWER_GENERATION_FIELDS = (
    "id",
    "team",
    "style__slug",
    "style__name",
    "aspect_ratio",
    "quality",
    "batch_size",
    "status",
    "progress",
    "credits_held",
    "credits_used",
    "credits_refunded",
    "engine",
    "processing_ms",
    "error_code",
    "error_message",
    "retry_count",
    "is_favorite",
    "inspection",
    "source",
    "source_deleted_at",
    "created_at",
    "finished_at",
)
ANSWER_IMAGE_FIELDS = (
    "id",
    "generation",
    "index",
    "width",
    "height",
    "image",
    "image_webp",
    "thumbnail",
    "is_favorite",
    "engine",
    "model_name",
    "identity_score",
    "quality_score",
    "seed",
    "credits",
)


# Answer rows carry their live images as a plain list under this name. A prefetch into
# `images` itself builds a related manager and a filtered queryset per generation (about a
# third of a history page's Python); a list attribute does not.
ANSWER_IMAGES = "answer_images"


def _answer_columns(qs: QuerySet[HeadshotGeneration]) -> QuerySet[HeadshotGeneration]:
    return qs.select_related("style").only(*ANSWER_GENERATION_FIELDS)


def _answer_images_query(batch: int) -> CompiledQuery[GeneratedImage]:
    names = [f"generation_{i}" for i in range(batch)]

    def build(**ids: int) -> QuerySet[GeneratedImage]:
        return (
            GeneratedImage.objects.filter(
                generation_id__in=list(ids.values()), deleted_at__isnull=True
            )
            .only(*ANSWER_IMAGE_FIELDS)
            .order_by("index", "id")
        )

    return CompiledQuery(build, *names)


# The live images of up to 1, 4, 20 or 100 generations: a short list is padded with its
# first id, so a few statements serve every page (and stay prepared on PostgreSQL).
_ANSWER_IMAGES = {batch: _answer_images_query(batch) for batch in (1, 4, 20, 100)}


def _attach_answer_images(generations: list[HeadshotGeneration]) -> None:
    found: dict[int, list[GeneratedImage]] = {generation.pk: [] for generation in generations}
    ids = list(found)
    while ids:
        batch = next(size for size in _ANSWER_IMAGES if size >= min(len(ids), 100))
        chunk, ids = ids[:batch], ids[batch:]
        padded = chunk + chunk[:1] * (batch - len(chunk))
        params = {f"generation_{i}": pk for i, pk in enumerate(padded)}
        for image in _ANSWER_IMAGES[batch].fetch(**params):
            found[image.generation_id].append(image)
    for generation in generations:
        setattr(generation, ANSWER_IMAGES, found[generation.pk])


def _headshots_filtered(
    *, user, filters: dict | None, team_id: int | None
) -> QuerySet[HeadshotGeneration]:
    filters = filters or {}
    qs = headshots_visible(user=user, team_id=team_id)
    if filters.get("favorite") is not None:
        favorite = filters["favorite"]
        # EXISTS rather than a join: no DISTINCT, so a page still walks the member's index
        has_favorite_image = Exists(
            GeneratedImage.objects.filter(
                generation=OuterRef("pk"), is_favorite=True, deleted_at__isnull=True
            )
        )
        qs = (
            qs.filter(Q(is_favorite=True) | has_favorite_image)
            if favorite
            else qs.filter(is_favorite=False)
        )
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("style"):
        qs = qs.filter(style__slug=filters["style"])
    return qs.order_by("-created_at", "-id")


def headshot_list(
    *, user, filters: dict | None = None, team_id: int | None = None
) -> QuerySet[HeadshotGeneration]:
    """History, newest first, with images in two more queries whatever the page size."""
    return _with_images(_headshots_filtered(user=user, filters=filters, team_id=team_id))


class AnswerPages:
    """History rows to serialise, never to save (only the answer's columns are loaded), for
    Django's Paginator: `count()`, and a slice as one compiled read plus one of images."""

    def __init__(self, query: CompiledQuery[HeadshotGeneration], params: dict) -> None:
        self._query, self._params = query, params

    def count(self) -> int:
        return self._query.count(**self._params)

    def __getitem__(self, window: slice) -> list[HeadshotGeneration]:
        if not isinstance(window, slice):
            raise TypeError("History pages are slices.")
        start = window.start or 0
        if window.step is not None or start < 0 or window.stop is None or window.stop < start:
            raise TypeError("History pages are forward slices with an end.")
        if window.stop == start:
            return []
        rows = self._query.fetch(limit=window.stop - start, offset=start, **self._params)
        _attach_answer_images(rows)
        return rows

    def __iter__(self):
        rows = self._query.fetch(**self._params)
        _attach_answer_images(rows)
        return iter(rows)


# One compiled history read per shape of filters: (favorite, by status, by style, in team).
_HISTORY: dict[tuple, CompiledQuery[HeadshotGeneration]] = {}


def _history_query(shape: tuple) -> CompiledQuery[HeadshotGeneration]:
    query = _HISTORY.get(shape)
    if query is None:
        favorite, by_status, by_style, in_team = shape

        def build(user_id, team_id=None, status=None, style=None):
            filters = {"favorite": favorite, "status": status, "style": style}
            filtered = _headshots_filtered(user=user_id, filters=filters, team_id=team_id)
            return _answer_columns(filtered)

        ids = ["user_id", "team_id"] if in_team else ["user_id"]
        texts = [name for name, on in (("status", by_status), ("style", by_style)) if on]
        query = _HISTORY.setdefault(shape, CompiledQuery(build, *ids, texts=texts))
    return query


def headshot_list_answer(
    *, user, filters: dict | None = None, team_id: int | None = None
) -> AnswerPages:
    """`headshot_list` with only the columns the API answer reads, compiled once per shape
    of filters: the history a phone pages through."""
    filters = filters or {}
    params = {"user_id": user.pk}
    if team_id is not None:
        params["team_id"] = team_id
    for name in ("status", "style"):
        if filters.get(name):
            params[name] = str(filters[name])
    shape = (
        filters.get("favorite"),
        "status" in params,
        "style" in params,
        team_id is not None,
    )
    return AnswerPages(_history_query(shape), params)


def headshot_list_answer_for_ids(*, user, generation_ids: list[int]) -> list[HeadshotGeneration]:
    """The member's generations among `generation_ids`, newest first, as answer rows."""
    rows = list(
        _answer_columns(headshots_visible(user=user))
        .filter(pk__in=generation_ids)
        .order_by("-created_at", "-id")
    )
    _attach_answer_images(rows)
    return rows


def headshot_get(
    *, user, generation_id, for_update: bool = False, team_id: int | None = None
) -> HeadshotGeneration:
    qs = headshots_visible(user=user, team_id=team_id)
    if for_update:
        qs = qs.select_for_update()
    try:
        return (
            _with_images(qs).get(pk=object_id(generation_id))
            if not for_update
            else qs.get(pk=object_id(generation_id))
        )
    except (HeadshotGeneration.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such headshot.") from None


def _answer_generation(generation_id, user_id, team_id=None):
    visible = headshots_visible(user=user_id, team_id=team_id)
    return _answer_columns(visible.filter(pk=generation_id))


# The status poll: what a phone repeats every few seconds while its headshots render.
# The same two reads as the history's, compiled once (common.compiled).
_POLLED_GENERATION = CompiledQuery(_answer_generation, "generation_id", "user_id")
_POLLED_GENERATION_IN_TEAM = CompiledQuery(
    _answer_generation, "generation_id", "user_id", "team_id"
)


def headshot_get_answer(*, user, generation_id, team_id: int | None = None) -> HeadshotGeneration:
    """`headshot_get` with only the columns the API answer reads (the status poll): a row
    to serialise, never to save."""
    ids = {"generation_id": object_id(generation_id), "user_id": user.pk}
    if team_id is None:
        generation = _POLLED_GENERATION.first(**ids)
    else:
        generation = _POLLED_GENERATION_IN_TEAM.first(**ids, team_id=team_id)
    if generation is None:
        raise NotFound("No such headshot.")
    _attach_answer_images([generation])
    return generation


def image_get(*, user, image_id, team_id: int | None = None) -> GeneratedImage:
    generations = headshots_visible(user=user, team_id=team_id)
    try:
        return GeneratedImage.objects.select_related("generation", "generation__style").get(
            pk=object_id(image_id), deleted_at__isnull=True, generation__in=generations
        )
    except (GeneratedImage.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such image.") from None


def headshots_generated(*, user) -> int:
    """Images a user has been delivered, ever (the profile counter)."""
    return GeneratedImage.objects.filter(generation__user=user).count()


def image_shared(*, image_id: int) -> GeneratedImage | None:
    """An image behind a share link its owner made; gone once deleted."""
    return (
        GeneratedImage.objects.select_related("generation", "generation__style")
        .filter(pk=image_id, deleted_at__isnull=True, generation__deleted_at__isnull=True)
        .first()
    )


# --- the staff report's rows (staff.selectors folds them into a day's figures) ------------


@dataclass(frozen=True)
class GenerationReportRows:
    hours: list[tuple]  # (day, hour, n), always by day
    by_style: list[dict]  # style_id, status, n, ms_sum, ms_n
    by_person: list[dict]  # user_id, team_id, n
    by_timing: list[dict]  # processing_ms, n


def generations_reported(*, spans: Spans, by_day: bool) -> GenerationReportRows:
    """The generations created within the spans, counted four ways (four queries); rows
    carry `day` (current time zone) when `by_day`."""
    day = ["day"] if by_day else []
    generations = HeadshotGeneration.objects.filter(within(spans, "created_at")).annotate(
        day=TruncDate("created_at")
    )
    return GenerationReportRows(
        hours=list(
            generations.annotate(hour=ExtractHour("created_at"))
            .values("day", "hour")
            .annotate(n=Count("id"))
            .order_by()
            .values_list("day", "hour", "n")
        ),
        by_style=list(
            generations.values(*day, "style_id", "status")
            .annotate(n=Count("id"), ms_sum=Sum("processing_ms"), ms_n=Count("processing_ms"))
            .order_by()
        ),
        by_person=list(
            generations.values(*day, "user_id", "team_id").annotate(n=Count("id")).order_by()
        ),
        by_timing=list(
            generations.filter(processing_ms__isnull=False)
            .values(*day, "processing_ms")
            .annotate(n=Count("id"))
            .order_by()
        ),
    )


def images_reported(*, spans: Spans, by_day: bool) -> list[dict]:
    """Images (and render attempts) of the generations created within the spans: rows of
    `images`, `renders` (and `day` when `by_day`). One query."""
    images = GeneratedImage.objects.filter(within(spans, "generation__created_at"))
    totals = {"images": Count("id"), "renders": Sum("attempts")}
    if not by_day:
        return [images.aggregate(**totals)]
    return list(
        images.annotate(day=TruncDate("generation__created_at"))
        .values("day")
        .annotate(**totals)
        .order_by()
    )


def style_names(*, style_ids) -> dict[int, tuple[str, str]]:
    """id -> (slug, name) of these styles, active or not."""
    if not style_ids:
        return {}
    rows = HeadshotStyle.objects.filter(pk__in=style_ids).values_list("pk", "slug", "name")
    return {pk: (slug, name) for pk, slug, name in rows}

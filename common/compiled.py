"""ORM reads compiled to SQL once, for the few that run on every API request.

The ORM builds and compiles the same SQL on every call: for a one-row read that is most
of its cost (~0.4-0.7 ms of Python against ~0.1 ms to run it). The reads every API call
makes (the session's user) and the status poll a phone repeats every few seconds run one
shape thousands of times a minute, so they are built once per database, with the ORM,
and afterwards only executed: the same SQL, the same column conversions and the same
model instances (`select_related` included) as the queryset would give.

The queryset is built by a function of named parameters. It is called once with
placeholder values, and the places those land in the compiled parameters are where
each call's values go. That is why parameters must be ids (ints) or texts (strs) that
the ORM passes through unchanged: anything it would turn into different SQL (None, a
bool, lists, a slice) needs a query of its own. A page is asked for with `limit` and
`offset`, which go to the database as parameters, and `count()` counts every row.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet
from django.db.models.base import ModelState
from django.db.models.fields.files import FileDescriptor, ImageFileDescriptor
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query import get_related_populators
from django.db.models.signals import post_init, pre_init

M = TypeVar("M", bound=Model)

# Far from any real id or text, and distinct per parameter.
_PLACEHOLDER = -(2**62) + 7919
_TEXT_PLACEHOLDER = "compiled-placeholder-7919:{}"


@dataclass(frozen=True)
class _Statement:
    sql: str
    # (parameter name or None, constant) per SQL parameter, in order
    slots: tuple[tuple[str | None, Any], ...]

    def params(self, values: dict[str, Any]) -> list[Any]:
        return [constant if name is None else values[name] for name, constant in self.slots]


@dataclass(frozen=True)
class _Compiled:
    statement: _Statement
    sliced: bool  # its own LIMIT is in the SQL
    model: type[Model]
    fields: tuple[int, int]  # the model's columns in a row
    init_list: list[str]
    builds_plainly: bool
    populators: list
    converters: dict
    compiler: Any


class CompiledQuery(Generic[M]):
    """`build(**params)` -> a queryset; `fetch(**params)` -> its rows, and `count(**params)`
    how many there are, without rebuilding it. `names` are ids (ints), `texts` strs."""

    def __init__(
        self, build: Callable[..., QuerySet[M]], *names: str, texts: Iterable[str] = ()
    ) -> None:
        texts = tuple(texts)
        if clash := (set(names) & set(texts)) | ({"using", "limit", "offset"} & {*names, *texts}):
            raise ValueError(f"Parameter names {sorted(clash)} are taken.")
        self._build = build
        self._kinds: dict[str, type] = dict.fromkeys(names, int) | dict.fromkeys(texts, str)
        self._compiled: dict[str, _Compiled] = {}
        self._counts: dict[str, _Statement] = {}

    def fetch(
        self,
        *,
        using: str = DEFAULT_DB_ALIAS,
        limit: int | None = None,
        offset: int = 0,
        **params: int | str,
    ) -> list[M]:
        """The rows, all of them or `limit` of them after the first `offset`."""
        compiled = self._compiled.get(using) or self._compile(using)
        sql, values = compiled.statement.sql, compiled.statement.params(self._checked(params))
        if limit is not None:
            if compiled.sliced:
                raise ValueError("This query is sliced already: it takes no limit.")
            # The window is bound like any parameter: one statement serves every page.
            sql, values = (
                f"{sql} LIMIT %s OFFSET %s",
                [*values, _window_int(limit), _window_int(offset)],
            )
        with connections[using].cursor() as cursor:
            cursor.execute(sql, values)
            rows = cursor.fetchall()
        if compiled.converters:
            rows = compiled.compiler.apply_converters(rows, compiled.converters)
        start, end = compiled.fields
        make = _instance_maker(
            compiled.model, compiled.init_list, using, plain=compiled.builds_plainly
        )
        found = []
        for row in rows:
            instance = make(row[start:end])
            for populator in compiled.populators:
                populator.populate(row, instance)
            found.append(instance)
        return found

    def first(self, *, using: str = DEFAULT_DB_ALIAS, **params: int | str) -> M | None:
        rows = self.fetch(using=using, **params)
        return rows[0] if rows else None

    def count(self, *, using: str = DEFAULT_DB_ALIAS, **params: int | str) -> int:
        """How many rows `fetch` would return without a limit: distinct primary keys when
        the query is DISTINCT (as long as its ordering adds no columns that repeat a row)."""
        statement = self._counts.get(using)
        if statement is None:
            queryset = self._build(**self._placeholders())
            if queryset.query.is_sliced:
                raise ValueError("This query is sliced already: count what fetch() returns.")
            queryset = queryset.order_by().values("pk")
            inner, _ = self._statement(queryset, using)
            # The ORM's own SQL, its values bound as parameters.
            sql = f"SELECT COUNT(*) FROM ({inner.sql}) counted"  # noqa: S608
            statement = _Statement(sql, inner.slots)
            self._counts[using] = statement
        with connections[using].cursor() as cursor:
            cursor.execute(statement.sql, statement.params(self._checked(params)))
            return cursor.fetchone()[0]

    def _placeholders(self) -> dict[str, int | str]:
        return {
            name: _PLACEHOLDER - i if kind is int else _TEXT_PLACEHOLDER.format(name)
            for i, (name, kind) in enumerate(self._kinds.items())
        }

    def _statement(self, queryset: QuerySet, using: str) -> tuple[_Statement, Any]:
        query = queryset.query
        if queryset._prefetch_related_lookups or query.annotation_select or query.extra_select:
            raise ValueError("A compiled query takes plain rows (select_related at most).")
        compiler = query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        by_value = {value: name for name, value in self._placeholders().items()}
        slots = tuple(
            (by_value.get(value) if type(value) in (int, str) else None, value) for value in params
        )
        placed = {name for name, _ in slots if name}
        if any(name is None and _changed_placeholder(value) for name, value in slots):
            raise ValueError(
                "A parameter reached the SQL changed as well as unchanged: its changed copy "
                "would stay the placeholder's. Compile a query that uses it as it is."
            )
        if placed != set(self._kinds):
            raise ValueError(
                f"Parameters {sorted(set(self._kinds) - placed)} did not reach the SQL as "
                "they were: only ids and texts passed through unchanged can be compiled."
            )
        return _Statement(sql, slots), compiler

    def _compile(self, using: str) -> _Compiled:
        queryset = self._build(**self._placeholders())
        statement, compiler = self._statement(queryset, using)
        select, klass_info = compiler.select, compiler.klass_info
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        init_list = [column[0].target.attname for column in select[start:end]]
        compiled = _Compiled(
            statement=statement,
            sliced=queryset.query.is_sliced,
            model=klass_info["model"],
            fields=(start, end),
            init_list=init_list,
            builds_plainly=_builds_plainly(klass_info["model"], init_list),
            populators=get_related_populators(klass_info, select, using),
            converters=compiler.get_converters([s[0] for s in select[: compiler.col_count]]),
            compiler=compiler,
        )
        self._compiled[using] = compiled
        return compiled

    def _checked(self, params: dict[str, Any]) -> dict[str, Any]:
        # Only what each placeholder stood for: it goes into the SQL as it is.
        if params.keys() != self._kinds.keys():
            raise TypeError(f"Expected the parameters {sorted(self._kinds)}, got {sorted(params)}")
        for name, value in params.items():
            kind = self._kinds[name]
            if type(value) is not kind:
                raise TypeError(f"{name} must be {kind.__name__}, not {type(value).__name__}")
        return params


# Setters __init__ would run that do nothing more on a new instance than store the value.
_PLAIN_SETTERS = frozenset(
    (ForeignKeyDeferredAttribute.__set__, FileDescriptor.__set__, ImageFileDescriptor.__set__)
)


def _builds_plainly(model: type[Model], attnames: list[str]) -> bool:
    """Whether a new instance is just its column values: no custom from_db or __init__, and
    no column whose descriptor does work when set (signals are checked at each fetch)."""
    if model.from_db.__func__ is not Model.from_db.__func__ or model.__init__ is not Model.__init__:
        return False
    for attname in attnames:
        setter = getattr(type(inspect.getattr_static(model, attname, None)), "__set__", None)
        if setter is not None and setter not in _PLAIN_SETTERS:
            return False
    return True


def _instance_maker(
    model: type[M], attnames: list[str], using: str, *, plain: bool
) -> Callable[[tuple], M]:
    """What `model.from_db(using, attnames, row)` builds, without its per-row work: from_db
    looks every column up in the loaded names and then runs __init__, which is most of a
    page's Python. An instance is its column values in __dict__ (the deferred ones absent)
    and a ModelState; anything else (`plain` False, init signals) keeps from_db."""
    if not plain or pre_init.has_listeners(model) or post_init.has_listeners(model):
        return lambda row: model.from_db(using, attnames, row)
    new = model.__new__

    def make(row: tuple) -> M:
        instance = new(model)
        state = ModelState()
        state.adding, state.db = False, using
        instance.__dict__.update(zip(attnames, row, strict=True), _state=state)
        return instance

    return make


def _changed_placeholder(value: Any) -> bool:
    if type(value) is int:
        return abs(value - _PLACEHOLDER) < 2**32
    return isinstance(value, str) and _TEXT_PLACEHOLDER.format("") in value


def _window_int(value: Any) -> int:
    if type(value) is not int or value < 0:
        raise TypeError(f"limit and offset must be ints of 0 or more, not {value!r}")
    return value

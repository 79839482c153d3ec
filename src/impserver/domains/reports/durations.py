"""Durations between a request's moments, worked out by the database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class seconds_between(FunctionElement[float]):
    """Seconds from the second moment to the first, never below zero (clocks of different
    servers may disagree by a little)."""

    type = Float()
    inherit_cache = True
    name = "seconds_between"


@compiles(seconds_between, "postgresql")
def _seconds_on_postgres(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    # date_part gives a double (EXTRACT a slower numeric); not GREATEST, which would turn a
    # missing moment (NULL) into 0.
    seconds = f"date_part('epoch', ({later}) - ({earlier}))"
    return f"CASE WHEN {seconds} < 0 THEN 0 ELSE {seconds} END"


@compiles(seconds_between, "sqlite")
def _seconds_on_sqlite(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"MAX(0, (julianday({later}) - julianday({earlier})) * 86400.0)"

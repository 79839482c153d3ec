"""Statements written with :name parameters, numbered for the driver."""

from __future__ import annotations

from impserver.core.db import numbered


def test_each_name_gets_one_number_in_order_of_first_use() -> None:
    sql, names = numbered("SELECT CAST(:room AS INTEGER), :body, :room WHERE x = :author")
    assert sql == "SELECT CAST($1 AS INTEGER), $2, $1 WHERE x = $3"
    assert names == ("room", "body", "author")


def test_casts_and_times_are_not_parameters() -> None:
    sql, names = numbered("SELECT x::text, '10:30' AS t, :at")
    assert sql == "SELECT x::text, '10:30' AS t, $1"
    assert names == ("at",)

"""The month-range condition of the stored figures (``data.figures.months_between``): the
same months as year × 100 + month between the bounds, written so an index on (year, month)
can be used."""

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select

from dashboard.data.figures import months_between

metadata = MetaData()
months = Table("months", metadata, Column("year", Integer), Column("month", Integer))


@pytest.fixture(scope="module")
def engine():
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(
            insert(months),
            [{"year": y, "month": m} for y in range(2024, 2029) for m in range(1, 13)],
        )
    return engine


def _chosen(engine, first, last):
    query = (
        select(months.c.year, months.c.month)
        .where(months_between(months.c.year, months.c.month, first, last))
        .order_by(months.c.year, months.c.month)
    )
    with engine.connect() as connection:
        return [tuple(r) for r in connection.execute(query)]


@pytest.mark.parametrize(
    ("first", "last", "count"),
    [
        ((2026, 3), (2026, 3), 1),  # one month
        ((2026, 1), (2026, 12), 12),  # a calendar year
        ((2025, 11), (2026, 2), 4),  # Nov, Dec, Jan, Feb
        ((2024, 12), (2027, 1), 2 + 24),  # Dec 2024, all of 2025 and 2026, Jan 2027
        ((2026, 5), (2026, 4), 0),  # an empty range
    ],
)
def test_the_months_between_the_bounds_inclusive(engine, first, last, count):
    expected = [
        (y, m)
        for y in range(2024, 2029)
        for m in range(1, 13)
        if first[0] * 100 + first[1] <= y * 100 + m <= last[0] * 100 + last[1]
    ]
    assert len(expected) == count
    assert _chosen(engine, first, last) == expected

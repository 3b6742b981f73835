"""The history database's schema versions as explicit, ordered steps (tables in ``reports.schema``).

Version N is reached by running ``MIGRATIONS[N]`` on a database at version N-1; the version
lives in ``meta`` (key ``schema_version``, 0 when there is no ``meta`` table yet). ``upgrade``
runs the missing steps inside the caller's transaction, which holds the write lock, so a second
process waits and then finds the work done.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from reports.run_owner import label_interrupted
from reports.schema import SCHEMA_VERSION, TABLES_OF_VERSION, meta, metadata, runs


def _create_tables_of(version: int, conn: Connection) -> None:
    """Create the tables ``version`` introduced, leaving any that already exist as they are."""
    metadata.create_all(conn, tables=list(TABLES_OF_VERSION[version]), checkfirst=True)


def _create_v1(conn: Connection) -> None:
    _create_tables_of(1, conn)


def _v1_to_v2(conn: Connection) -> None:
    """Owners and daily summaries. A run left ``running`` by a version-1 process has no owner to
    probe; runs are not left open across an upgrade, so it is labelled interrupted now."""
    _create_tables_of(2, conn)
    for (run_id,) in conn.execute(sa.select(runs.c.id).where(runs.c.status == "running")).all():
        label_interrupted(conn, run_id, "found running when the database was upgraded to schema 2")


def _v2_to_v3(conn: Connection) -> None:
    """How each input of a run was read (format, what a paper is, what was left out): older runs have none."""
    _create_tables_of(3, conn)


def _v3_to_v4(conn: Connection) -> None:
    """The alert log and the shard results join the migrations. Version-3 code created them on
    first use with these very definitions, so a table already there is kept, rows and all."""
    _create_tables_of(4, conn)


def _v4_to_v5(conn: Connection) -> None:
    """Shard runs read their links from the history database: as flow run parameters they passed
    Prefect's 512 KB limit at about 2,600 links a shard."""
    _create_tables_of(5, conn)


def _v5_to_v6(conn: Connection) -> None:
    """Rescue: where each failing link's archived copy is (and when to ask the archives again), and
    the Save Code Now requests made for live repositories. Older databases have asked nothing."""
    _create_tables_of(6, conn)


def _v6_to_v7(conn: Connection) -> None:
    """Code found elsewhere: each paper's suggested repositories with where they were found, its latest
    answer (when to ask again) and the suggestions accepted as its own links. Older databases have
    asked nothing: every paper without code is due on the first run."""
    _create_tables_of(7, conn)


MIGRATIONS: dict[int, Callable[[Connection], None]] = {1: _create_v1, 2: _v1_to_v2, 3: _v2_to_v3, 4: _v3_to_v4,
                                                       5: _v4_to_v5, 6: _v5_to_v6, 7: _v6_to_v7}


def version_of(conn: Connection) -> int:
    """The schema version of the database ``conn`` is connected to; 0 for an empty one."""
    if not sa.inspect(conn).has_table("meta"):
        return 0
    value = conn.execute(sa.select(meta.c.value).where(meta.c.key == "schema_version")).scalar()
    return int(value) if value else 0


def upgrade(conn: Connection) -> None:
    """Run every step from the database's version up to SCHEMA_VERSION, recording each version reached."""
    for version in range(version_of(conn) + 1, SCHEMA_VERSION + 1):
        MIGRATIONS[version](conn)
        conn.execute(sa.delete(meta).where(meta.c.key == "schema_version"))
        conn.execute(sa.insert(meta).values(key="schema_version", value=str(version)))

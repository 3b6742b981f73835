"""Every table of the history database, and which schema version created it.

Schema (version 7), readable in one screen:

    meta             key, value                          -- schema_version lives here
    runs             id, started_at, finished_at, flow_run_id, sources, source_digest,
                     status (running|completed|failed|interrupted), offline, notes, counts
    papers           id, title, source, first_seen, last_seen
    links            id, normalized, kind, first_seen
    paper_links      paper_id, link_id, url, claim, promise, position  -- a paper cites a link
    run_papers       run_id, paper_id, position                 -- the watched set of a run
    observations     id, run_id, link_id, state, reason, checker, status_code, final_url,
                     error, elapsed_ms, attempts, suggested_url, evidence, details, checked_at
    run_owners       run_id, host, boot_id, pid, process_start  -- which process runs it   (v2)
    daily_summaries  link_id, day, state, seen, first_at, last_at  -- pruned observations (v2)
    run_readings     run_id, position, source, reading        -- how each input was read  (v3)
    alert_log        id, run_id, recorded_at, outcome, title, items, deliveries,
                     tracking_issue                           -- what each run alerted    (v4)
    paperwatch_shard_results  run_id, shard, flow_run_id, batches, written_at
                                                              -- shard runs' checked batches (v4)
    paperwatch_shard_work     run_id, shard, work, written_at  -- each shard run's links    (v5)
    archive_lookups  link_id, outcome, service, copy_url, captured_at, reason, swh_visit_at,
                     services, checked_at, next_check_at      -- where a link's copy is   (v6)
    save_requests    link_id, origin, request_id, requested_at, request_status, task_status,
                     visit_date, polled_at                    -- Save Code Now requests   (v6)
    code_suggestions paper_id, url, source_kind, source_url, detail, also, current,
                     first_run, first_seen_at, last_run, last_seen_at  -- code found elsewhere (v7)
    discovery_answers paper_id, outcome, notes, run_id, asked_at, next_ask_at
                                                              -- the latest ask, per paper (v7)
    accepted_suggestions paper_id, url, how, run_id, accepted_at  -- taken as its own link (v7)

Times are UTC ISO-8601 text, so they sort and read the same in every database. The steps that
create these tables, version by version, are in ``reports.migrations``.
"""

from __future__ import annotations

import sqlalchemy as sa

SCHEMA_VERSION = 7

metadata = sa.MetaData()

# --- version 1 ---

meta = sa.Table("meta", metadata, sa.Column("key", sa.String(64), primary_key=True), sa.Column("value", sa.Text, nullable=False))

runs = sa.Table(
    "runs", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("started_at", sa.String(40), nullable=False),
    sa.Column("finished_at", sa.String(40)),
    sa.Column("flow_run_id", sa.String(64)),
    sa.Column("sources", sa.JSON, nullable=False),
    sa.Column("source_digest", sa.String(64)),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("offline", sa.Boolean, nullable=False, default=False),
    sa.Column("notes", sa.JSON, nullable=False, default=list),
    sa.Column("counts", sa.JSON, nullable=False, default=dict),
)

papers = sa.Table(
    "papers", metadata,
    sa.Column("id", sa.String(200), primary_key=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("source", sa.Text),
    sa.Column("first_seen", sa.String(40), nullable=False),
    sa.Column("last_seen", sa.String(40), nullable=False),
)

links = sa.Table(
    "links", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("normalized", sa.Text, nullable=False, unique=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("first_seen", sa.String(40), nullable=False),
)

paper_links = sa.Table(
    "paper_links", metadata,
    sa.Column("paper_id", sa.String(200), sa.ForeignKey("papers.id"), primary_key=True),
    sa.Column("link_id", sa.Integer, sa.ForeignKey("links.id"), primary_key=True),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("claim", sa.String(32)),
    sa.Column("promise", sa.Boolean, nullable=False, default=False),
    sa.Column("position", sa.Integer, nullable=False, default=0),
)

run_papers = sa.Table(
    "run_papers", metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), primary_key=True),
    sa.Column("paper_id", sa.String(200), sa.ForeignKey("papers.id"), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
)

observations = sa.Table(
    "observations", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), nullable=False),
    sa.Column("link_id", sa.Integer, sa.ForeignKey("links.id"), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("checker", sa.String(16), nullable=False),
    sa.Column("status_code", sa.Integer),
    sa.Column("final_url", sa.Text),
    sa.Column("error", sa.Text),
    sa.Column("elapsed_ms", sa.Integer),
    sa.Column("attempts", sa.Integer, nullable=False, default=1),
    sa.Column("suggested_url", sa.Text),
    sa.Column("evidence", sa.JSON, nullable=False, default=dict),
    sa.Column("details", sa.JSON, nullable=False, default=dict),
    sa.Column("checked_at", sa.String(40), nullable=False),
    sa.UniqueConstraint("run_id", "link_id", name="one_observation_per_link_per_run"),
    sa.Index("observations_by_link", "link_id", "run_id"),
)

# --- version 2 ---

run_owners = sa.Table(
    "run_owners", metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), primary_key=True),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("boot_id", sa.String(64)),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("process_start", sa.String(32)),
)

daily_summaries = sa.Table(
    "daily_summaries", metadata,
    sa.Column("link_id", sa.Integer, sa.ForeignKey("links.id"), primary_key=True),
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("state", sa.String(16), primary_key=True),
    sa.Column("seen", sa.Integer, nullable=False),
    sa.Column("first_at", sa.String(40), nullable=False),
    sa.Column("last_at", sa.String(40), nullable=False),
)

# --- version 3 ---

run_readings = sa.Table(
    "run_readings", metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("reading", sa.JSON, nullable=False),  # checks.readings.Reading.to_dict()
)

# --- version 4: tables earlier versions' code created on first use, outside the migrations ---

alert_log = sa.Table(  # reports.alerts.AlertLog
    "alert_log", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer, nullable=False, unique=True),
    sa.Column("recorded_at", sa.String(40), nullable=False),
    sa.Column("outcome", sa.String(32), nullable=False),  # digest, quiet, could not check, could not check (repeat)
    sa.Column("title", sa.Text),
    sa.Column("items", sa.JSON, nullable=False, default=list),  # [{url, change}]
    sa.Column("deliveries", sa.JSON, nullable=False, default=list),  # [{channel (redacted), ok, error}]
    sa.Column("tracking_issue", sa.JSON),  # {action, number, url, error}
)

shard_results = sa.Table(  # flows.shard_results: one row per shard flow run, read and deleted by its parent
    "paperwatch_shard_results", metadata,
    sa.Column("run_id", sa.Integer, primary_key=True),
    sa.Column("shard", sa.Integer, primary_key=True),
    sa.Column("flow_run_id", sa.String(64)),
    sa.Column("batches", sa.JSON, nullable=False),  # [flows.batch_plan.CheckedBatch.to_dict()]
    sa.Column("written_at", sa.String(40), nullable=False),
)

shard_work = sa.Table(  # flows.shard_results: each shard's links, written by the parent before it starts the shard runs
    "paperwatch_shard_work", metadata,
    sa.Column("run_id", sa.Integer, primary_key=True),
    sa.Column("shard", sa.Integer, primary_key=True),
    sa.Column("work", sa.JSON, nullable=False),  # {"pages" | "github" | "huggingface": [checks.model.Link.to_dict()]}
    sa.Column("written_at", sa.String(40), nullable=False),
)

# --- version 6: rescue (reports.archive_store) ---

archive_lookups = sa.Table(  # one row per link: the archives' latest answer and when to ask again
    "archive_lookups", metadata,
    sa.Column("link_id", sa.Integer, sa.ForeignKey("links.id"), primary_key=True),
    sa.Column("outcome", sa.String(16), nullable=False),  # found | none | unknown (checks.archive_model.LookupOutcome)
    sa.Column("service", sa.String(32)),  # of the copy: software-heritage | wayback
    sa.Column("copy_url", sa.Text),
    sa.Column("captured_at", sa.String(40)),
    sa.Column("reason", sa.Text, nullable=False, default=""),
    sa.Column("swh_visit_at", sa.String(40)),  # a repository's latest Software Heritage visit, whatever the outcome
    sa.Column("services", sa.String(64), nullable=False, default=""),  # the archives asked, comma-separated
    sa.Column("checked_at", sa.String(40), nullable=False),
    sa.Column("next_check_at", sa.String(40), nullable=False),
    sa.Index("archive_lookups_due", "next_check_at"),
)

save_requests = sa.Table(  # one row per link: its latest Save Code Now request
    "save_requests", metadata,
    sa.Column("link_id", sa.Integer, sa.ForeignKey("links.id"), primary_key=True),
    sa.Column("origin", sa.Text, nullable=False),
    sa.Column("request_id", sa.Integer),
    sa.Column("requested_at", sa.String(40), nullable=False),
    sa.Column("request_status", sa.String(16), nullable=False),
    sa.Column("task_status", sa.String(32), nullable=False),
    sa.Column("visit_date", sa.String(40)),
    sa.Column("polled_at", sa.String(40)),
)

# --- version 7: code found elsewhere (reports.suggestion_store) ---

code_suggestions = sa.Table(  # one row per paper and suggested repository: where it was found, when
    "code_suggestions", metadata,
    sa.Column("paper_id", sa.String(200), sa.ForeignKey("papers.id"), primary_key=True),
    sa.Column("url", sa.Text, primary_key=True),  # normalized (checks.link_kinds); also a row of ``links``
    sa.Column("source_kind", sa.String(32), nullable=False),  # hf-paper | project-page | hub-card
    sa.Column("source_url", sa.Text, nullable=False),
    sa.Column("detail", sa.Text, nullable=False),  # "the paper's Hugging Face page", "the model card of org/name"
    sa.Column("also", sa.JSON, nullable=False, default=list),  # other places naming it: [{kind, url, detail}]
    sa.Column("current", sa.Boolean, nullable=False, default=True),  # in the paper's latest complete answer
    sa.Column("first_run", sa.Integer, nullable=False),
    sa.Column("first_seen_at", sa.String(40), nullable=False),
    sa.Column("last_run", sa.Integer, nullable=False),
    sa.Column("last_seen_at", sa.String(40), nullable=False),
)

discovery_answers = sa.Table(  # one row per paper: its latest answer, and when to ask again
    "discovery_answers", metadata,
    sa.Column("paper_id", sa.String(200), sa.ForeignKey("papers.id"), primary_key=True),
    sa.Column("outcome", sa.String(16), nullable=False),  # found | nothing-found | incomplete | not-asked
    sa.Column("notes", sa.JSON, nullable=False, default=list),  # [{kind, message}]
    sa.Column("run_id", sa.Integer, nullable=False),
    sa.Column("asked_at", sa.String(40), nullable=False),
    sa.Column("next_ask_at", sa.String(40), nullable=False),
    sa.Index("discovery_answers_due", "next_ask_at"),
)

accepted_suggestions = sa.Table(  # suggestions a user took as the paper's own code link
    "accepted_suggestions", metadata,
    sa.Column("paper_id", sa.String(200), primary_key=True),
    sa.Column("url", sa.Text, primary_key=True),  # normalized
    sa.Column("how", sa.String(16), nullable=False),  # flag (--accept-suggestions) | config ([discovery] accept)
    sa.Column("run_id", sa.Integer),
    sa.Column("accepted_at", sa.String(40), nullable=False),
)

# A table is never changed after the version that created it; a later version adds tables (or
# alters in its own migration, and then gives the earlier versions frozen copies of their tables).
TABLES_OF_VERSION: dict[int, tuple[sa.Table, ...]] = {
    1: (meta, runs, papers, links, paper_links, run_papers, observations),
    2: (run_owners, daily_summaries),
    3: (run_readings,),
    4: (alert_log, shard_results),
    5: (shard_work,),
    6: (archive_lookups, save_requests),
    7: (code_suggestions, discovery_answers, accepted_suggestions),
}

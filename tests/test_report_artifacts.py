"""Each monitor run shows its summary in the Prefect UI: a table, the summary.md, a link to the report."""

from __future__ import annotations

from pathlib import Path

import pytest
from hostile import hostile_report

from reports.report import write_report

pytestmark = pytest.mark.prefect


def test_a_run_publishes_a_summary_table_the_markdown_and_a_link(prefect_api: None, tmp_path: Path) -> None:
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.runtime import flow_run

    from flows.monitor import _publish_artifacts

    report = hostile_report(tmp_path)
    paths = write_report(report, tmp_path / "out")
    result = {"run_id": report["run"]["id"], "html": str(paths.html), "json": str(paths.json), "summary": report["summary"],
              "changes": report["changes"], "offline": False, "notes": []}

    @flow(name="publish-artifacts-test")
    def publish() -> str:
        _publish_artifacts(result)
        return str(flow_run.get_id())

    run_id = publish()
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])))
    by_key = {artifact.key: artifact for artifact in artifacts}
    assert set(by_key) == {"paperwatch-summary", "paperwatch-summary-md", "paperwatch-report"}
    assert by_key["paperwatch-summary"].type == "table"
    table = str(by_key["paperwatch-summary"].data)
    assert "data available now (papers)" in table and "1 of 1 (100 %): available 1" in table and "links dead" in table
    assert by_key["paperwatch-summary-md"].data == paths.markdown.read_text()
    assert paths.html.as_uri() in str(by_key["paperwatch-report"].data)  # a link artifact (Prefect stores it as Markdown)

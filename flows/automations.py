"""The Prefect automations shipped with the deployments, applied by ``paperwatch automations apply``.

Two automations, found by name on the Prefect server and created or updated in place (applying
twice leaves two):

- ``paperwatch: monitor missed its run`` (on by default): a proactive trigger on
  ``prefect.flow-run.Completed`` of one deployment (``monitor/paperwatch-daily``): when no run of
  it completes within the window (26 hours: a daily cron plus two hours' slack), the notification
  block sends one message. ``after`` and ``expect`` are the same event and there is no
  ``for_each``, so the window restarts at every completion, and the server also opens one the
  first time it evaluates the automation: a monitor that never completes after ``apply`` is
  reported too. While runs stay missing it repeats about every two windows.
- ``paperwatch: links died`` (created disabled unless ``--links``): a reactive trigger on
  ``paperwatch.run.links-died``, which the monitor emits once per run in which links newly died,
  so one message per run, never one per link. The run's own digests (``--notify``, ``notify`` in
  paperwatch.toml) already tell of link changes; enabling both would say it twice.

A SendNotification action needs the block document's id, so the definitions are built here, with
the ids looked up by slug and name, rather than kept in a static file; ``automations_yaml``
prints them in the shape ``prefect automation create --from-file`` reads.

An update gives the trigger a new id on the server, which restarts its proactive window, so an
automation whose definition has not changed is left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

from prefect.events.actions import SendNotification
from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture

if TYPE_CHECKING:
    from prefect.client.orchestration import SyncPrefectClient

LINKS_DIED_NAME = "paperwatch: links died"
MISSED_RUN_NAME = "paperwatch: monitor missed its run"
LINKS_DIED_EVENT = "paperwatch.run.links-died"  # reports.link_events.LINKS_DIED (flows may not pull reports in here for one name)
COMPLETED_EVENT = "prefect.flow-run.Completed"
DEFAULT_DEPLOYMENT = "monitor/paperwatch-daily"
DEFAULT_MISSED_AFTER_HOURS = 26.0
MIN_WINDOW = timedelta(seconds=10)  # Prefect's minimum for a proactive trigger

LINKS_SUBJECT = ("paperwatch: {{ event.payload.count }} link{{ '' if event.payload.count == 1 else 's' }} "
                 "died in run {{ event.payload.run_id }}")
LINKS_BODY = """\
{{ event.payload.count }} link{{ '' if event.payload.count == 1 else 's' }} newly dead in paperwatch run {{ event.payload.run_id }}:
{% for link in event.payload.links %}
- {{ link.url }} ({{ link.reason }}){% if link.papers %}, cited by {{ link.papers | map(attribute='title') | join('; ') }}\
{% if link.papers_total > link.papers | length %} and {{ link.papers_total - link.papers | length }} more{% endif %}{% endif %}
{%- endfor %}
{% if event.payload.more %}
... and {{ event.payload.more }} more (see the report).
{% endif %}{% if event.payload.report %}
Report: {{ event.payload.report }}
{% endif %}"""


class AutomationSetupError(Exception):
    """A block or deployment that cannot be found, or a window Prefect does not accept: one line for the user."""


@dataclass(frozen=True)
class Targets:
    """What the automations point at, resolved on the server."""

    block_slug: str  # TYPE/NAME
    block_id: UUID
    deployment: str  # FLOW/DEPLOYMENT
    deployment_id: UUID


@dataclass(frozen=True)
class Planned:
    """One automation as it will be (or was) applied, and what applying does to the server's copy."""

    automation: AutomationCore
    action: Literal["create", "update", "unchanged"]
    existing_id: UUID | None = None
    removed_duplicates: tuple[UUID, ...] = ()


def window(hours: float) -> timedelta:
    within = timedelta(hours=hours)
    if within < MIN_WINDOW:
        raise AutomationSetupError(f"--missed-after-hours {hours:g}: Prefect needs a window of at least "
                                   f"{MIN_WINDOW.total_seconds():.0f} seconds")
    return within


def describe_window(within: timedelta) -> str:
    """``26 hours``, ``90 minutes``, ``36 seconds``: the window as the message says it."""
    seconds = within.total_seconds()
    for unit, size in (("hour", 3600), ("minute", 60), ("second", 1)):
        if seconds >= size and (seconds / size).is_integer() or unit == "second":
            count = seconds / size
            return f"{count:g} {unit}{'' if count == 1 else 's'}"
    raise AssertionError("unreachable")


def links_died_automation(block_id: UUID, enabled: bool) -> AutomationCore:
    """One notification per run that found links newly dead, naming the count and the links."""
    return AutomationCore(
        name=LINKS_DIED_NAME,
        description=("One message per paperwatch run in which links newly died (the run's paperwatch.run.links-died "
                     "event). Off by default: the run's own digest (--notify) already reports link changes."),
        enabled=enabled,
        trigger=EventTrigger(expect={LINKS_DIED_EVENT}, match={"prefect.resource.id": "paperwatch.run.*"},
                             posture=Posture.Reactive, threshold=1, within=timedelta(0)),
        actions=[SendNotification(block_document_id=block_id, subject=LINKS_SUBJECT, body=LINKS_BODY)],
    )


def missed_run_automation(block_id: UUID, deployment: str, deployment_id: UUID, within: timedelta) -> AutomationCore:
    """A message when no run of ``deployment`` completed within ``within``, counted from its last
    completion or, before the first one, from when the server first evaluated the automation."""
    span = describe_window(within)
    body = (f"No run of the Prefect deployment {deployment} completed in the last {span}.\n"
            "{% if event %}Last completion seen: {{ event.occurred }} ({{ event.resource.name }}).\n"
            "{% else %}No completion seen since this automation was applied.\n{% endif %}"
            "Is the work pool's worker running? Look at the deployment's runs in the Prefect UI.")
    return AutomationCore(
        name=MISSED_RUN_NAME,
        description=(f"Tells when {deployment} has not completed a run for {span} (a missed schedule, a stopped worker, "
                     "a failing or hanging run)."),
        enabled=True,
        trigger=EventTrigger(
            after={COMPLETED_EVENT}, expect={COMPLETED_EVENT},
            match={"prefect.resource.id": "prefect.flow-run.*"},
            match_related={"prefect.resource.role": "deployment", "prefect.resource.id": f"prefect.deployment.{deployment_id}"},
            posture=Posture.Proactive, threshold=1, within=within),
        actions=[SendNotification(block_document_id=block_id,
                                  subject=f"paperwatch: {deployment} has not completed a run in {span}", body=body)],
    )


def resolve(client: SyncPrefectClient, block: str, deployment: str) -> Targets:
    """The block document and deployment ids, or one line saying what is missing and how to make it."""
    from prefect.exceptions import ObjectNotFound

    block_type, _, block_name = block.partition("/")
    if not block_type or not block_name:
        raise AutomationSetupError(f"--block {block}: expected TYPE/NAME, e.g. slack-webhook/lab-alerts")
    try:
        document = client.read_block_document_by_name(block_name, block_type, include_secrets=False)
    except ObjectNotFound:
        raise AutomationSetupError(f"--block {block}: no such block on the Prefect server (create it in the UI under "
                                   "Blocks, or with BlockClass(...).save(NAME))") from None
    capabilities = document.block_schema.capabilities if document.block_schema else []
    if "notify" not in capabilities:
        raise AutomationSetupError(f"--block {block}: a {block_type} block cannot send notifications")
    try:
        deployed = client.read_deployment_by_name(deployment)
    except ObjectNotFound:
        raise AutomationSetupError(f"--deployment {deployment}: not deployed on this Prefect server "
                                   "(run `prefect --no-prompt deploy --all` in the checkout first)") from None
    assert document.id is not None
    return Targets(block, document.id, deployment, deployed.id)


def desired(targets: Targets, links: bool, within: timedelta) -> list[AutomationCore]:
    return [missed_run_automation(targets.block_id, targets.deployment, targets.deployment_id, within),
            links_died_automation(targets.block_id, enabled=links)]


def _comparable(automation: AutomationCore) -> dict[str, Any]:
    """The definition without the ids the server adds (the automation's, its trigger's)."""
    data = AutomationCore.model_validate(automation.model_dump(exclude={"id"})).model_dump(mode="json")
    data["trigger"].pop("id", None)
    return data


def plan(client: SyncPrefectClient, automations: list[AutomationCore]) -> list[Planned]:
    planned = []
    for automation in automations:
        existing = sorted(client.read_automations_by_name(automation.name), key=lambda a: str(a.id))
        if not existing:
            planned.append(Planned(automation, "create"))
            continue
        keep, extra = existing[0], tuple(a.id for a in existing[1:])
        same = _comparable(keep) == _comparable(automation)
        planned.append(Planned(automation, "unchanged" if same and not extra else "update", keep.id, extra))
    return planned


def execute(client: SyncPrefectClient, planned: list[Planned]) -> None:
    for item in planned:
        for duplicate in item.removed_duplicates:
            client.delete_automation(duplicate)
        if item.action == "create":
            client.create_automation(item.automation)
        elif item.action == "update":
            assert item.existing_id is not None
            client.update_automation(item.existing_id, item.automation)


def apply(block: str, links: bool = False, missed_after_hours: float = DEFAULT_MISSED_AFTER_HOURS,
          deployment: str = DEFAULT_DEPLOYMENT, dry_run: bool = False) -> list[Planned]:
    """Create or update both automations on the Prefect server at PREFECT_API_URL (only plan them with ``dry_run``)."""
    from prefect.client.orchestration import get_client

    within = window(missed_after_hours)
    with get_client(sync_client=True) as client:
        planned = plan(client, desired(resolve(client, block, deployment), links, within))
        if not dry_run:
            execute(client, planned)
    return planned


def on_server() -> list[dict[str, Any]]:
    """The paperwatch automations the server has: name, enabled, trigger and actions, as stored."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        found = [a for name in (MISSED_RUN_NAME, LINKS_DIED_NAME) for a in client.read_automations_by_name(name)]
    return [{"id": str(a.id), **_comparable(a)} for a in found]


def automations_yaml(automations: list[AutomationCore] | list[dict[str, Any]]) -> str:
    """The definitions in the shape ``prefect automation create --from-file`` reads."""
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    def text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:  # templates stay readable: literal blocks
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)

    Dumper.add_representer(str, text)
    data = [a if isinstance(a, dict) else _comparable(a) for a in automations]
    return yaml.dump({"automations": data}, Dumper=Dumper, sort_keys=False, allow_unicode=True, width=100)

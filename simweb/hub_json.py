"""JSON bodies of the simulated Hugging Face Hub API.

Keys are those of /work/shared/reference/hf-api (what huggingface_hub parses);
papers follow the real /api/papers and /api/daily_papers payloads, where the
GitHub and project links of a daily item sit inside its nested ``paper``.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Sequence

from .world import Dataset, Hub, HubFile, HubRepo, Model, Paper, Space, stable_int, stable_sha

LFS_THRESHOLD = 10 * 1024 * 1024
RUNNING_STAGES = {"RUNNING", "RUNNING_BUILDING", "RUNNING_APP_STARTING", "APP_STARTING"}


def stamp(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z") if moment else None


def object_id(text: str) -> str:
    """A 24-hex Mongo-style id, as the Hub's ``_id`` fields."""
    return stable_sha(text)[:24]


def file_size(repo: HubRepo, f: HubFile) -> int:
    return f.size if f.size is not None else len(file_bytes(repo, f.name))


def file_bytes(repo: HubRepo, name: str) -> bytes:
    """Small deterministic contents; big declared sizes are streamed by the face instead."""
    if name == "README.md":
        if repo.card is not None:
            return repo.card.encode()
        license_line = f"license: {repo.license}\n" if repo.license else ""
        return f"---\n{license_line}---\n\n# {repo.id}\n".encode()
    if name.endswith(".json"):
        return b'{"architectures": ["SimulatedModel"], "model_type": "simulated"}\n'
    lines = stable_int(f"{repo.id}/{name}", 5, 200)
    return "".join(f"# {name}: line {i}\n" for i in range(lines)).encode()


def file_body(repo: HubRepo, f: HubFile) -> bytes:
    """The file's bytes, repeated up to a declared size."""
    data = file_bytes(repo, f.name)
    if f.size is None:
        return data
    return (data * (f.size // len(data) + 1))[: f.size]


def file_etag(repo: HubRepo, f: HubFile) -> str:
    """sha256 for LFS-sized files (never materialised), the git blob sha otherwise, as on the Hub."""
    if file_size(repo, f) >= LFS_THRESHOLD:
        return hashlib.sha256(f"{repo.id}/{f.name}".encode()).hexdigest()
    data = file_body(repo, f)
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def siblings(repo: HubRepo, blobs: bool) -> list[dict[str, Any]]:
    result = []
    for f in repo.all_files:
        entry: dict[str, Any] = {"rfilename": f.name}
        if blobs:
            size = file_size(repo, f)
            entry |= {"size": size, "blobId": stable_sha(f"blob:{repo.id}/{f.name}")}
            if size >= LFS_THRESHOLD:
                entry["lfs"] = {"size": size, "sha256": file_etag(repo, f), "pointerSize": 134}
        result.append(entry)
    return result


def tree(repo: HubRepo, folder: str, recursive: bool) -> list[dict[str, Any]] | None:
    """GET /api/{kind}s/{id}/tree/{rev}/{folder}: files and folders below it; None if it is no folder."""
    prefix = f"{folder.strip('/')}/" if folder.strip("/") else ""
    files = {f.name: f for f in repo.all_files if f.name.startswith(prefix)}
    if not files:
        return None
    entries: dict[str, dict[str, Any]] = {}
    for name, f in files.items():
        parts = name[len(prefix) :].split("/")
        for depth in range(1, len(parts)):
            path = prefix + "/".join(parts[:depth])
            if recursive or depth == 1:
                oid = stable_sha(f"tree:{repo.id}/{path}")
                entries[path] = {"type": "directory", "oid": oid, "size": 0, "path": path}
        if recursive or len(parts) == 1:
            size = file_size(repo, f)
            oid = stable_sha(f"blob:{repo.id}/{name}")
            entry: dict[str, Any] = {"type": "file", "oid": oid, "size": size, "path": name}
            if size >= LFS_THRESHOLD:
                entry["lfs"] = {"oid": file_etag(repo, f), "size": size, "pointerSize": 134}
            entries[name] = entry
    return [entries[k] for k in sorted(entries)]


def _common(repo: HubRepo) -> dict[str, Any]:
    return {
        "_id": object_id(f"{repo.kind}:{repo.id}"),
        "id": repo.id,
        "author": repo.owner,
        "sha": repo.commit,
        "lastModified": stamp(repo.modified),
        "createdAt": stamp(repo.created),
        "private": repo.private,
        "gated": repo.gated,
        "disabled": repo.disabled,
    }


def _card(repo: HubRepo) -> dict[str, Any]:
    return {"cardData": {"license": repo.license}} if repo.license else {}


def tags(repo: HubRepo, cites: Sequence[str] = ()) -> list[str]:
    """The repo's tags as served: the scenario's, or derived (library, pipeline, sdk, license, region),
    with ``arxiv:<id>`` for each paper it cites, as the Hub adds them from the card."""
    arxiv = [f"arxiv:{paper_id}" for paper_id in cites]
    if repo.tags:
        return list(dict.fromkeys([*repo.tags, *arxiv]))
    if isinstance(repo, Model):
        derived: tuple[str | None, ...] = (repo.library_name, repo.pipeline_tag)
    elif isinstance(repo, Space):
        derived = (repo.sdk,)
    else:
        derived = ()
    license_tag = [f"license:{repo.license}"] if repo.license else []
    return list(dict.fromkeys([t for t in derived if t] + arxiv + license_tag + ["region:us"]))


def model(repo: Model, blobs: bool, cites: Sequence[str] = ()) -> dict[str, Any]:
    body = _common(repo) | {"downloads": repo.downloads, "likes": repo.likes}
    if repo.library_name:
        body["library_name"] = repo.library_name
    body["tags"] = tags(repo, cites)
    if repo.pipeline_tag:
        body["pipeline_tag"] = repo.pipeline_tag
    return body | _card(repo) | {"siblings": siblings(repo, blobs), "spaces": []}


def dataset(repo: Dataset, blobs: bool, cites: Sequence[str] = ()) -> dict[str, Any]:
    body = _common(repo) | {"downloads": repo.downloads, "likes": repo.likes, "paperswithcode_id": None}
    body["tags"] = tags(repo, cites)
    return body | _card(repo) | {"siblings": siblings(repo, blobs)}


def runtime(space: Space) -> dict[str, Any]:
    running = space.stage in RUNNING_STAGES
    return {
        "stage": space.stage,
        "hardware": {"current": space.hardware if running else None, "requested": space.hardware},
        "storage": None,
        "gcTimeout": 172800,
        "replicas": {"current": 1 if running else 0, "requested": 1},
        "devMode": False,
    }


def space(repo: Space, blobs: bool, cites: Sequence[str] = ()) -> dict[str, Any]:
    body = _common(repo) | {
        "subdomain": repo.subdomain,
        "host": f"https://{repo.subdomain}.hf.space",
        "likes": repo.likes,
        "sdk": repo.sdk,
        "tags": tags(repo, cites),
    }
    card = {"cardData": {"title": repo.id.split("/")[-1], "sdk": repo.sdk} | _card(repo).get("cardData", {})}
    return body | card | {"siblings": siblings(repo, blobs), "runtime": runtime(repo), "models": [], "datasets": []}


def repo_info(
    repo: HubRepo, blobs: bool, expand: Sequence[str], security: bool, cites: Sequence[str] = ()
) -> dict[str, Any]:
    """The info payload; with ``expand`` only the asked properties (plus ids), as the Hub does.

    ``cites``: the arXiv ids the repo cites (``Hub.citations``), served as ``arxiv:`` tags.
    """
    if isinstance(repo, Space):
        body = space(repo, blobs, cites)
    elif isinstance(repo, Dataset):
        body = dataset(repo, blobs, cites)
    else:
        body = model(repo, blobs, cites)  # type: ignore[arg-type]
    if security:
        body["securityRepoStatus"] = {"scansDone": True, "filesWithIssues": []}
    if expand:
        return {k: v for k, v in body.items() if k in ("_id", "id", *expand)}
    return body


def user(name: str) -> dict[str, Any]:
    return {
        "_id": object_id(f"user:{name}"),
        "avatarUrl": f"/avatars/{stable_sha(name)[:32]}.svg",
        "isPro": False,
        "fullname": name,
        "user": name,
        "type": "user",
        "name": name,
    }


def organization(name: str) -> dict[str, Any]:
    avatar = f"/avatars/{stable_sha(name)[:32]}.svg"
    return {"_id": object_id(f"org:{name}"), "name": name, "fullname": name, "avatarUrl": avatar}


def paper(p: Paper, hub: Hub) -> dict[str, Any]:
    """GET /api/papers/{id}."""
    body: dict[str, Any] = {
        "id": p.id,
        "authors": [
            {"_id": object_id(f"{p.id}:{i}"), "name": name, "hidden": False} for i, name in enumerate(p.authors)
        ],
        "mediaUrls": [],
        "publishedAt": stamp(p.published_at),
        "submittedOnDailyAt": stamp(p.submitted_on_daily_at),
        "title": p.title,
        "summary": p.summary,
        "upvotes": p.upvotes,
        "discussionId": object_id(f"discussion:{p.id}"),
    }
    if p.submitted_by:
        body["submittedOnDailyBy"] = user(p.submitted_by)
    optional = {
        "githubRepo": p.github_repo,
        "githubStars": p.github_stars,
        "projectPage": p.project_page,
        "ai_summary": p.ai_summary,
        "ai_keywords": list(p.ai_keywords) or None,
        "organization": organization(p.organization) if p.organization else None,
    }
    body |= {k: v for k, v in optional.items() if v is not None}
    if hub.paper_linked_limit is None:
        return body
    for key, kind in (("Models", "model"), ("Datasets", "dataset"), ("Spaces", "space")):
        linked = hub.linked(p, kind)
        body[f"linked{key}"] = [
            repo_info(r, False, ["likes", "lastModified"], False) for r in linked[: hub.paper_linked_limit]
        ]
        if key != "Spaces":
            body[f"numTotal{key}"] = len(linked)
    return body


LIST_FIELDS = {
    "model": ("likes", "downloads", "tags", "private", "createdAt", "lastModified", "pipeline_tag", "library_name"),
    "dataset": ("likes", "downloads", "tags", "private", "createdAt", "lastModified"),
    "space": ("likes", "tags", "private", "createdAt", "lastModified", "sdk"),
}


def list_item(repo: HubRepo, cites: Sequence[str], expand: Sequence[str], full: bool) -> dict[str, Any]:
    """One entry of GET /api/{models,datasets,spaces}: the short form unless ``expand`` or ``full`` asks for more."""
    if full and not expand:
        return repo_info(repo, False, (), False, cites)
    return repo_info(repo, False, expand or LIST_FIELDS[repo.kind], False, cites)


def daily_item(p: Paper, hub: Hub) -> dict[str, Any]:
    """One entry of /api/daily_papers: the listing fields around the nested paper."""
    item: dict[str, Any] = {
        "paper": paper(p, hub),
        "publishedAt": stamp(p.submitted_on_daily_at or p.published_at),
        "title": p.title,
        "summary": p.summary,
        "thumbnail": f"https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/{p.id}.png",
        "numComments": p.num_comments,
        "submittedBy": user(p.submitted_by or "akhaliq"),
    }
    if p.organization:
        item["organization"] = organization(p.organization)
    item["isAuthorParticipating"] = False
    return item

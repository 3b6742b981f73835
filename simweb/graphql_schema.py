"""GitHub's GraphQL schema, the subset a link monitor needs, resolved over the simulated world.

Type names, field names, arguments and nullability follow GitHub's public schema
(docs.github.com/graphql/reference), so a query that validates here validates there;
connections take only `first`/`last` (no cursors). Objects are plain dicts: the default
graphql-core resolver reads their keys and calls the callables among them with the
field's arguments, which keeps lazy or argument-taking fields (object, history,
releases) next to the eager ones. `measure` is GitHub's static pre-check: pagination
bounds, the node limit and the rate-limit cost, computed before anything runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    build_schema,
    get_named_type,
    is_composite_type,
    value_from_ast_untyped,
)

from . import github_json as js
from .world import GitHub, Release, Repo, stable_int, stable_sha

WEB = js.WEB
MAX_PAGE = 100
NODE_LIMIT = 500_000
CHOOSEALICENSE = "http://choosealicense.com/licenses"

SDL = """
scalar DateTime
scalar URI
scalar GitObjectID

type Query {
  repository(owner: String!, name: String!, followRenames: Boolean = true): Repository
  repositoryOwner(login: String!): RepositoryOwner
  rateLimit: RateLimit
}

interface Node { id: ID! }

interface RepositoryOwner {
  id: ID!
  login: String!
  url: URI!
  resourcePath: URI!
  avatarUrl(size: Int): URI!
}

type User implements Node & RepositoryOwner {
  id: ID!
  databaseId: Int
  login: String!
  name: String
  url: URI!
  resourcePath: URI!
  avatarUrl(size: Int): URI!
}

type Organization implements Node & RepositoryOwner {
  id: ID!
  databaseId: Int
  login: String!
  name: String
  url: URI!
  resourcePath: URI!
  avatarUrl(size: Int): URI!
}

enum RepositoryLockReason { MOVING BILLING RENAME MIGRATING TRADE_RESTRICTION TRANSFERRING_OWNERSHIP }
enum RepositoryVisibility { PRIVATE PUBLIC INTERNAL }
enum IssueState { OPEN CLOSED }
enum OrderDirection { ASC DESC }
enum ReleaseOrderField { CREATED_AT NAME }
input ReleaseOrder { field: ReleaseOrderField! direction: OrderDirection! }

type Repository implements Node {
  id: ID!
  databaseId: Int
  name: String!
  nameWithOwner: String!
  url: URI!
  resourcePath: URI!
  description: String
  homepageUrl: URI
  isArchived: Boolean!
  isDisabled: Boolean!
  isEmpty: Boolean!
  isFork: Boolean!
  isLocked: Boolean!
  isPrivate: Boolean!
  lockReason: RepositoryLockReason
  visibility: RepositoryVisibility!
  parent: Repository
  stargazerCount: Int!
  forkCount: Int!
  diskUsage: Int
  createdAt: DateTime!
  updatedAt: DateTime!
  pushedAt: DateTime
  licenseInfo: License
  primaryLanguage: Language
  repositoryTopics(first: Int, last: Int): RepositoryTopicConnection!
  issues(states: [IssueState!], first: Int, last: Int): IssueConnection!
  defaultBranchRef: Ref
  latestRelease: Release
  releases(first: Int, last: Int, orderBy: ReleaseOrder): ReleaseConnection!
  object(expression: String, oid: GitObjectID): GitObject
  owner: RepositoryOwner!
}

type License implements Node {
  id: ID!
  key: String!
  name: String!
  spdxId: String
  url: URI
}

type Language implements Node {
  id: ID!
  name: String!
}

type Topic implements Node {
  id: ID!
  name: String!
}

type RepositoryTopic implements Node {
  id: ID!
  topic: Topic!
  url: URI!
}

type RepositoryTopicConnection {
  totalCount: Int!
  nodes: [RepositoryTopic]
}

type IssueConnection {
  totalCount: Int!
}

type Ref implements Node {
  id: ID!
  name: String!
  prefix: String!
  target: GitObject
}

interface GitObject {
  id: ID!
  oid: GitObjectID!
  abbreviatedOid: String!
  commitUrl: URI!
}

type Commit implements Node & GitObject {
  id: ID!
  oid: GitObjectID!
  abbreviatedOid: String!
  commitUrl: URI!
  url: URI!
  message: String!
  messageHeadline: String!
  authoredDate: DateTime!
  committedDate: DateTime!
  history(first: Int, last: Int): CommitHistoryConnection!
  tree: Tree!
}

type CommitHistoryConnection {
  totalCount: Int!
  nodes: [Commit]
}

type Tree implements Node & GitObject {
  id: ID!
  oid: GitObjectID!
  abbreviatedOid: String!
  commitUrl: URI!
  entries: [TreeEntry!]
}

type TreeEntry {
  name: String!
  path: String
  type: String!
  mode: Int!
  oid: GitObjectID!
  size: Int!
  extension: String
  object: GitObject
}

type Blob implements Node & GitObject {
  id: ID!
  oid: GitObjectID!
  abbreviatedOid: String!
  commitUrl: URI!
  byteSize: Int!
  text: String
  isBinary: Boolean
  isTruncated: Boolean!
}

type Release implements Node {
  id: ID!
  databaseId: Int
  name: String
  tagName: String!
  description: String
  url: URI!
  isDraft: Boolean!
  isPrerelease: Boolean!
  isLatest: Boolean!
  createdAt: DateTime!
  publishedAt: DateTime
  releaseAssets(first: Int, last: Int): ReleaseAssetConnection!
}

type ReleaseConnection {
  totalCount: Int!
  nodes: [Release]
}

type ReleaseAsset implements Node {
  id: ID!
  name: String!
  size: Int!
  downloadCount: Int!
  contentType: String!
  downloadUrl: URI!
}

type ReleaseAssetConnection {
  totalCount: Int!
  nodes: [ReleaseAsset]
}

type RateLimit {
  cost: Int!
  limit: Int!
  nodeCount: Int!
  remaining: Int!
  resetAt: DateTime!
  used: Int!
}
"""

SCHEMA: GraphQLSchema = build_schema(SDL)

Node = dict[str, Any]


class GitHubError(Exception):
    """A resolver refusal carrying GitHub's error `type` (NOT_FOUND, FORBIDDEN, ...)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.type = kind


@dataclass
class Context:
    """Per-query state: the world to read, the rateLimit answer, and the repos the query reached (for faults)."""

    gh: GitHub
    rate_limit: Node
    touched: list[Repo] = field(default_factory=list)


# --- Query -------------------------------------------------------------------------------


def _repository(info: GraphQLResolveInfo, owner: str, name: str, followRenames: bool = True) -> Node:
    """Faults first (the repo was reached), then visibility; an old name resolves only when following renames."""
    context: Context = info.context
    asked = f"{owner}/{name}"
    repo = context.gh.find(asked) or (context.gh.find_renamed(asked) if followRenames else None)
    if repo is not None:
        context.touched.append(repo)
    if repo is None or repo.private:
        raise GitHubError("NOT_FOUND", f"Could not resolve to a Repository with the name '{asked}'.")
    if repo.blocked == "dmca":
        raise GitHubError("FORBIDDEN", "Repository access blocked")
    return repository(repo, context.gh)


def _repository_owner(info: GraphQLResolveInfo, login: str) -> Node | None:
    found = info.context.gh.owner(login)
    return owner(*found) if found else None


ROOT: dict[str, Callable[..., Any]] = {
    "repository": _repository,
    "repositoryOwner": _repository_owner,
    "rateLimit": lambda info: info.context.rate_limit,
}


# --- objects -----------------------------------------------------------------------------


def page(items: Sequence[Any], first: int | None = None, last: int | None = None, **_: Any) -> Node:
    """A connection over already-ordered items; `measure` has checked the bounds."""
    nodes = items[:first] if first is not None else items
    if last is not None:
        nodes = nodes[len(nodes) - last :] if last else []
    return {"totalCount": len(items), "nodes": list(nodes)}


def owner(login: str, kind: str) -> Node:
    number = js.user_id(login)
    return {
        "__typename": kind,
        "id": js.legacy_node_id(kind, number),
        "databaseId": number,
        "login": login,
        "name": login,
        "url": f"{WEB}/{login}",
        "resourcePath": f"/{login}",
        "avatarUrl": lambda info, size=None: f"https://avatars.githubusercontent.com/u/{number}?v=4"
        + (f"&s={size}" if size else ""),
    }


def repository(repo: Repo, gh: GitHub) -> Node:
    """ToS-disabled repos resolve with isDisabled (their git data stays unreachable); empty ones have no branch."""
    disabled = repo.disabled or repo.blocked in ("tos", "unavailable")
    language = {"id": js.legacy_node_id("Language", stable_int(repo.language or "", 1, 999)), "name": repo.language}
    return {
        "__typename": "Repository",
        "id": js.legacy_node_id("Repository", repo.repo_id),
        "databaseId": repo.repo_id,
        "name": repo.name,
        "nameWithOwner": repo.full_name,
        "url": f"{WEB}/{repo.full_name}",
        "resourcePath": f"/{repo.full_name}",
        "description": repo.description,
        "homepageUrl": repo.homepage,
        "isArchived": repo.archived,
        "isDisabled": disabled,
        "isEmpty": repo.empty,
        "isFork": repo.fork_of is not None,
        "isLocked": False,
        "isPrivate": repo.private,
        "lockReason": None,
        "visibility": "PRIVATE" if repo.private else "PUBLIC",
        "parent": lambda info: _parent(repo, gh),
        "stargazerCount": repo.stars,
        "forkCount": repo.forks,
        "diskUsage": repo.size if repo.size is not None else (0 if repo.empty else 40 * repo.commit_count + 120),
        "createdAt": js.stamp(repo.created),
        "updatedAt": js.stamp(repo.updated),
        "pushedAt": js.stamp(repo.pushed),
        "licenseInfo": license_info(repo.license),
        "primaryLanguage": language if repo.language else None,
        "repositoryTopics": lambda info, **args: page([_topic(repo, t) for t in repo.topics], **args),
        "issues": lambda info, states=None, **_: {"totalCount": _issue_count(repo, states)},
        "defaultBranchRef": None if repo.empty else _ref(repo, repo.default_branch),
        "latestRelease": lambda info: _latest(repo),
        "releases": lambda info, orderBy=None, **args: page(_releases(repo, orderBy), **args),
        "object": lambda info, expression=None, oid=None: None if disabled else git_object(repo, expression, oid),
        "owner": owner(repo.owner, repo.owner_type),
    }


def _issue_count(repo: Repo, states: list[str] | None) -> int:
    """Only open issues are simulated (`open_issues`); a CLOSED-only count is zero."""
    return repo.open_issues if not states or "OPEN" in states else 0


def _parent(repo: Repo, gh: GitHub) -> Node | None:
    if repo.fork_of is None:
        return None
    parent = gh.find(repo.fork_of) or Repo(full_name=repo.fork_of)
    return None if parent.private or parent.blocked == "dmca" else repository(parent, gh)


def license_info(key: str | None) -> Node | None:
    if key is None:
        return None
    name, spdx = js.LICENSES.get(key.lower(), (key, key.upper()))
    known = spdx != "NOASSERTION"
    return {
        "id": js.legacy_node_id("License", stable_int(key.lower(), 1, 40)),
        "key": key.lower(),
        "name": name,
        "spdxId": spdx,
        "url": f"{CHOOSEALICENSE}/{key.lower()}/" if known else None,
    }


def _topic(repo: Repo, name: str) -> Node:
    return {
        "id": js.legacy_node_id("RepositoryTopic", stable_int(f"{repo.full_name}#{name}", 1, 10**8)),
        "topic": {"id": js.legacy_node_id("Topic", stable_int(name, 1, 10**7)), "name": name},
        "url": f"{WEB}/topics/{name}",
    }


def _releases(repo: Repo, order: Node | None) -> list[Node]:
    """Oldest first unless ordered (GitHub's default order); drafts stay invisible, as on REST."""
    listed = list(reversed(js.visible_releases(repo)))
    if order and order.get("field") == "NAME":
        listed.sort(key=lambda r: r.name if r.name is not None else r.tag)
    if order and order.get("direction") == "DESC":
        listed.reverse()
    latest = js.latest_release(repo)
    return [_release(repo, r, r is latest) for r in listed]


def _latest(repo: Repo) -> Node | None:
    latest = js.latest_release(repo)
    return _release(repo, latest, True) if latest else None


def _release(repo: Repo, rel: Release, is_latest: bool) -> Node:
    number = js.release_id(repo, rel)
    published = rel.published_at or repo.pushed
    assets = [
        {
            "id": js.legacy_node_id("ReleaseAsset", number * 10 + i),
            "name": asset.name,
            "size": asset.size,
            "downloadCount": asset.download_count,
            "contentType": asset.content_type,
            "downloadUrl": f"{WEB}/{repo.full_name}/releases/download/{rel.tag}/{asset.name}",
        }
        for i, asset in enumerate(rel.assets)
    ]
    return {
        "id": js.legacy_node_id("Release", number),
        "databaseId": number,
        "name": rel.name if rel.name is not None else rel.tag,
        "tagName": rel.tag,
        "description": rel.body,
        "url": f"{WEB}/{repo.full_name}/releases/tag/{rel.tag}",
        "isDraft": rel.draft,
        "isPrerelease": rel.prerelease,
        "isLatest": is_latest,
        "createdAt": js.stamp(rel.created_at or published),
        "publishedAt": js.stamp(published),
        "releaseAssets": lambda info, **args: page(assets, **args),
    }


# --- git objects -------------------------------------------------------------------------


def _ref(repo: Repo, name: str) -> Node:
    return {
        "id": js.legacy_node_id("Ref", stable_int(f"{repo.full_name}@{name}", 1, 10**9)),
        "name": name,
        "prefix": "refs/heads/",
        "target": commit(repo, repo.commit_count - 1),
    }


def _git_ids(kind: str, repo: Repo, oid: str) -> Node:
    return {
        "__typename": kind,
        "id": js.legacy_node_id(kind, stable_int(oid, 1, 10**9)),
        "oid": oid,
        "abbreviatedOid": oid[:7],
        "commitUrl": f"{WEB}/{repo.full_name}/commit/{js.commit_sha(repo, repo.commit_count - 1)}",
    }


def commit(repo: Repo, index: int) -> Node:
    """Commit `index` counted from the oldest, the same SHA and date the REST face serves."""
    rest = js.commit(repo, index, "")
    sha, message, date = rest["sha"], rest["commit"]["message"], rest["commit"]["committer"]["date"]

    def history(info: GraphQLResolveInfo, **args: Any) -> Node:
        chosen = page(range(index, -1, -1), **args)
        return {"totalCount": chosen["totalCount"], "nodes": [commit(repo, i) for i in chosen["nodes"]]}

    return _git_ids("Commit", repo, sha) | {
        "commitUrl": f"{WEB}/{repo.full_name}/commit/{sha}",
        "url": f"{WEB}/{repo.full_name}/commit/{sha}",
        "message": message,
        "messageHeadline": message.splitlines()[0],
        "authoredDate": date,
        "committedDate": date,
        "history": history,
        "tree": lambda info: tree(repo, ""),
    }


def tree(repo: Repo, path: str) -> Node:
    prefix = f"{path}/" if path else ""
    children: dict[str, bool] = {}
    for name in repo.all_files:
        if name.startswith(prefix):
            child, _, deeper = name[len(prefix) :].partition("/")
            children[child] = children.get(child, False) or bool(deeper)
    return _git_ids("Tree", repo, _tree_oid(repo, path)) | {
        "entries": [_entry(repo, f"{prefix}{name}", is_dir) for name, is_dir in sorted(children.items())]
    }


def _entry(repo: Repo, path: str, is_dir: bool) -> Node:
    """A folder's subtree is built only when its `object` is asked for."""
    name = path.rsplit("/", 1)[-1]
    if is_dir:
        return {
            "name": name,
            "path": path,
            "type": "tree",
            "mode": 16384,
            "oid": _tree_oid(repo, path),
            "size": 0,
            "extension": None,
            "object": lambda info: tree(repo, path),
        }
    target = blob(repo, path)
    return {
        "name": name,
        "path": path,
        "type": "blob",
        "mode": 33188,
        "oid": target["oid"],
        "size": target["byteSize"],
        "extension": "." + name.rsplit(".", 1)[-1] if "." in name else None,
        "object": target,
    }


def _tree_oid(repo: Repo, path: str) -> str:
    return stable_sha(f"tree:{repo.full_name}/{path}")


def blob(repo: Repo, path: str) -> Node:
    data = js.file_bytes(repo, path)
    return _git_ids("Blob", repo, js.blob_sha(data)) | {
        "byteSize": len(data),
        "text": data.decode(),
        "isBinary": False,
        "isTruncated": False,
    }


def git_object(repo: Repo, expression: str | None, oid: str | None) -> Node | None:
    """`REV` is a commit, `REV:` the root tree, `REV:path` a blob or tree; null when nothing matches, as on GitHub."""
    if repo.empty:
        return None
    rev, colon, path = (expression or "").partition(":")
    index = _commit_index(repo, rev) if expression is not None else _commit_index(repo, oid or "", by_sha_only=True)
    if index is None:
        return None
    if not colon:
        return commit(repo, index)
    path = path.strip("/")
    if path in repo.all_files:
        return blob(repo, path)
    if not path or any(f.startswith(f"{path}/") for f in repo.all_files):
        return tree(repo, path)
    return None


def _commit_index(repo: Repo, rev: str, by_sha_only: bool = False) -> int | None:
    """HEAD, a branch or tag (every ref points at the newest commit, as on REST), or a full commit SHA."""
    rev = rev.removeprefix("refs/heads/").removeprefix("refs/tags/")
    if not by_sha_only and (rev == "HEAD" or repo.has_ref(rev)):
        return repo.commit_count - 1
    return next((i for i in range(repo.commit_count) if js.commit_sha(repo, i) == rev), None)


# --- GitHub's static pre-check -----------------------------------------------------------


@dataclass
class Measure:
    """What GitHub computes before running a query: `requests` (connection fetches) gives the cost."""

    requests: int = 0
    nodes: int = 0
    errors: list[Node] = field(default_factory=list)

    @property
    def cost(self) -> int:
        """Requests / 100, rounded to the nearest point, at least one point per query."""
        return max(1, (self.requests + 50) // 100)


def measure(document: DocumentNode, operation: OperationDefinitionNode, variables: dict[str, Any]) -> Measure:
    """Walk the operation as GitHub documents it ("rate limits and query limits for the GraphQL API").

    A connection is fetched once per node of the connections above it, so it adds the
    product of their page sizes to `requests`, and that product times its own page size
    to `nodes`. Every connection that selects `nodes` needs `first` or `last` within 1-100.
    """
    defaults = {
        d.variable.name.value: value_from_ast_untyped(d.default_value)
        for d in operation.variable_definitions or ()
        if d.default_value is not None
    }
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    walker = _Walker(fragments, defaults | variables)
    root = SCHEMA.get_root_type(operation.operation)
    if root is not None:
        walker.walk(operation.selection_set, root, 1, [])
    result = walker.result
    if not result.errors and result.nodes > NODE_LIMIT:
        result.errors.append(
            {
                "type": "MAX_NODE_LIMIT_EXCEEDED",
                "message": f"This query requests up to {result.nodes:,} possible nodes which exceeds "
                f"the maximum limit of {NODE_LIMIT:,}.",
            }
        )
    return result


@dataclass
class _Walker:
    """One pass over the operation, accumulating into `result`."""

    fragments: dict[str, FragmentDefinitionNode]
    variables: dict[str, Any]
    result: Measure = field(default_factory=Measure)

    def fields(self, selections: SelectionSetNode, parent: Any) -> Iterator[tuple[FieldNode, Any]]:
        """The fields of a selection set with the type each is selected on, fragments inlined."""
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                yield selection, parent
            elif isinstance(selection, InlineFragmentNode):
                on = SCHEMA.get_type(selection.type_condition.name.value) if selection.type_condition else parent
                yield from self.fields(selection.selection_set, on)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value in self.fragments:
                fragment = self.fragments[selection.name.value]
                yield from self.fields(fragment.selection_set, SCHEMA.get_type(fragment.type_condition.name.value))

    def walk(self, selections: SelectionSetNode, parent: Any, fetched: int, path: list[str]) -> None:
        for node, on in self.fields(selections, parent):
            definition = getattr(on, "fields", {}).get(node.name.value)
            if definition is None:
                continue
            named = get_named_type(definition.type)
            key = node.alias.value if node.alias else node.name.value
            below = fetched
            if isinstance(named, GraphQLObjectType) and named.name.endswith("Connection"):
                size = self.page_size(node, [*path, key])
                self.result.requests += fetched
                self.result.nodes += fetched * (size or 0)
                below = fetched * (size or 1)
            if node.selection_set is not None and is_composite_type(named):
                self.walk(node.selection_set, named, below, [*path, key])

    def page_size(self, node: FieldNode, path: list[str]) -> int | None:
        sizes: dict[str, int] = {}
        for argument in node.arguments or ():
            value = value_from_ast_untyped(argument.value, self.variables)
            if argument.name.value in ("first", "last") and isinstance(value, int):
                sizes[argument.name.value] = value
        name = node.name.value
        where = {"path": path, "locations": [_location(node)]}
        for bound, size in sizes.items():
            if size > MAX_PAGE:
                message = (
                    f"Requesting {size} records on the `{name}` connection exceeds the `{bound}` limit of 100 records."
                )
                self.result.errors.append({"type": "EXCESSIVE_PAGINATION", **where, "message": message})
        lists_items = node.selection_set is not None and any(
            f.name.value in ("nodes", "edges") for f, _ in self.fields(node.selection_set, None)
        )
        if not sizes and lists_items:
            message = f"You must provide a `first` or `last` value to properly paginate the `{name}` connection."
            self.result.errors.append({"type": "MISSING_PAGINATION_BOUNDARIES", **where, "message": message})
        return max(sizes.values()) if sizes else None


def _location(node: FieldNode) -> Node:
    location = node.loc.source.get_location(node.loc.start) if node.loc else None
    return {"line": location.line, "column": location.column} if location else {"line": 0, "column": 0}

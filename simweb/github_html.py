"""github.com's repository overview page as an anonymous browser receives it.

Shaped after the real page's parts that a checker without a token can read: the
``repos-overview`` React partial whose embedded JSON holds the root tree and the rendered
README (``props.initialPayload.tree.items`` / ``overview.overviewFiles[].richText``), the
archived banner, the "forked from" line, and the Releases box of the sidebar. An empty
repository gets GitHub's blank-slate page instead of the partial. The real page also
carries some 200 KB of scripts and styles; ``padding`` stands in for them, so readers
that stop early are tested against a realistic offset.
"""

from __future__ import annotations

import json
import re
from html import escape

from .github_json import commit_sha, visible_releases
from .world import Release, Repo

# Real pages put ~150 KB of <head> (styles, preloads) before the body.
HEAD_PADDING = 150 * 1024
_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")


def html_json(value: object) -> str:
    """JSON safe inside a <script> element, escaped as GitHub escapes it."""
    text = json.dumps(value, separators=(",", ":"))
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def readme_html(markdown: str) -> str:
    """A small Markdown renderer: headings, paragraphs and links, enough for READMEs in scenarios."""
    blocks = []
    for block in re.split(r"\n\s*\n", markdown.strip()):
        heading = re.match(r"^(#{1,6})\s+(.*)$", block)
        level, text = (len(heading.group(1)), heading.group(2)) if heading else (0, block)
        inner = _inline(text)
        blocks.append(f'<div class="markdown-heading"><h{level} class="heading-element">{inner}</h{level}></div>'
                      if level else f"<p>{inner}</p>")
    return '<article class="markdown-body entry-content container-lg" itemprop="text">' + "\n".join(blocks) + "</article>"


def _inline(text: str) -> str:
    parts, last = [], 0
    for match in _LINK.finditer(text):
        parts.append(escape(text[last:match.start()], quote=False))
        parts.append(f'<a href="{escape(match.group(2))}" rel="nofollow">{escape(match.group(1), quote=False)}</a>')
        last = match.end()
    return "".join(parts) + escape(text[last:], quote=False)


def root_items(repo: Repo) -> list[dict[str, str]]:
    """The root listing as the tree view sends it: directories first, then files, each by name."""
    directories, files = set(), set()
    for path in repo.all_files:
        first, _, rest = path.partition("/")
        (directories if rest else files).add(first)
    return ([{"name": n, "path": n, "contentType": "directory"} for n in sorted(directories, key=str.lower)]
            + [{"name": n, "path": n, "contentType": "file"} for n in sorted(files - directories, key=str.lower)])


def overview_payload(repo: Repo) -> dict[str, object]:
    readme = next((f for f in repo.all_files if "/" not in f and f.lower().startswith("readme")), None)
    return {
        "allShortcutsEnabled": False,
        "path": "/",
        "repo": {"id": repo.repo_id, "defaultBranch": repo.default_branch, "name": repo.name, "ownerLogin": repo.owner,
                 "currentUserCanPush": False, "isFork": repo.fork_of is not None, "isEmpty": False,
                 "createdAt": repo.created.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "public": True, "private": False,
                 "isOrgOwned": repo.owner_type == "Organization"},
        "currentUser": None,
        "refInfo": {"name": repo.default_branch, "listCacheKey": f"v0:{repo.repo_id}", "canEdit": False, "refType": "branch",
                    "currentOid": commit_sha(repo, repo.commit_count - 1)},
        "tree": {"items": root_items(repo), "templateDirectorySuggestionUrl": None, "readme": None,
                 "totalCount": len(root_items(repo)), "showBranchInfobar": False},
        "fileTree": None,
        "isOverview": True,
        "overview": {
            "banners": {"shouldRecommendReadme": readme is None, "isPersonalRepo": False},
            "overviewFiles": [{"displayName": readme, "repoName": repo.name, "refName": repo.default_branch,
                               "path": readme, "preferredFileType": "readme", "tabName": "README",
                               "richText": readme_html(repo.readme_text), "loaded": True, "timedOut": False,
                               "errorMessage": None}] if readme else [],
        },
    }


def releases_box(repo: Repo) -> str:
    releases = visible_releases(repo)
    link = f"/{repo.full_name}/releases"
    if not releases:
        return ('<h2 class="h4 mb-3">Releases</h2>\n<div class="text-small color-fg-muted">No releases published</div>')
    shown: Release = next((r for r in releases if not r.prerelease), releases[0])
    label = ('<span title="Label: Latest" class="Label Label--success flex-shrink-0">Latest</span>' if not shown.prerelease
             else '<span title="Label: Pre-release" class="Label Label--attention flex-shrink-0">Pre-release</span>')
    when = (shown.published_at or shown.created_at or repo.pushed).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (f'<h2 class="h4 mb-3"><a href="{escape(link)}" data-view-component="true" class="Link--primary no-underline Link">'
            f'Releases\n      <span title="{len(releases)}" data-view-component="true" class="Counter">{len(releases)}</span>'
            '</a></h2>\n'
            f'<a href="/{escape(repo.full_name)}/releases/tag/{escape(shown.tag)}" class="Link--primary d-flex no-underline">'
            f'<div class="ml-2 min-width-0"><div class="d-flex"><span class="css-truncate css-truncate-target text-bold mr-2" '
            f'style="max-width: none;">{escape(shown.name or shown.tag)}</span>{label}</div>'
            f'<div class="text-small color-fg-muted"><relative-time datetime="{when}" class="no-wrap"></relative-time></div></div></a>')


def latest_commit_json(repo: Repo) -> str:
    """``/{owner}/{repo}/latest-commit/{branch}``: what the overview page asks for, as it asks (Accept: JSON).

    Every branch answers with the repository's newest commit: simulated repos have one history.
    """
    index = repo.commit_count - 1
    sha = commit_sha(repo, index)
    message = "Initial commit" if index == 0 else "Update README.md"
    link = f"/{repo.full_name}/commit/{sha}"
    return json.dumps({
        "oid": sha, "url": link, "date": repo.pushed.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "shortMessageHtmlLink": f'<a data-pjax="true" title="{escape(message)}" class="Link--secondary" href="{link}">'
                                f"{escape(message)}</a>",
        "bodyMessageHtml": "",
    })


def repo_page(repo: Repo) -> str:
    title = f"GitHub - {repo.full_name}: {repo.description or ''}".rstrip(": ")
    banner = (f'<div class="flash flash-warn flash-full border-top-0 text-center text-bold py-2">This repository was archived '
              f'by the owner on {repo.updated.strftime("%b %-d, %Y")}. It is now read-only.</div>') if repo.archived else ""
    forked = (f'<span class="text-small lh-condensed-ultra no-wrap mt-1">forked from '
              f'<a class="Link--inTextBlock" href="/{escape(repo.fork_of)}">{escape(repo.fork_of)}</a></span>'
              if repo.fork_of else "")
    if repo.empty:
        main = ('<div class="Box"><div class="Box-body"><h3 class="mb-1">This repository is empty.</h3>'
                '<p>Care to check out <a href="https://guides.github.com">GitHub Guides</a>?</p></div></div>')
        sidebar = ""
    else:
        main = ('<react-partial partial-name="repos-overview" data-ssr="true" data-attempted-ssr="true">\n'
                '<script type="application/json" data-target="react-partial.embeddedData">'
                + html_json({"props": {"initialPayload": overview_payload(repo), "appPayload": {"helpUrl": "https://docs.github.com"}}})
                + '</script>\n<div data-target="react-partial.reactRoot"></div></react-partial>')
        sidebar = f'<div class="Layout-sidebar"><div class="BorderGrid-cell">{releases_box(repo)}</div></div>'
    padding = "<!-- " + "x" * HEAD_PADDING + " -->"
    return (
        "<!DOCTYPE html>\n<html lang=\"en\" data-color-mode=\"auto\">\n<head><meta charset=\"utf-8\">"
        f"<title>{escape(title)}</title>\n"
        f'<meta name="octolytics-dimension-repository_nwo" content="{escape(repo.full_name)}">\n'
        f'<meta name="octolytics-dimension-repository_is_fork" content="{str(repo.fork_of is not None).lower()}">\n'
        f'<meta property="og:url" content="https://github.com/{escape(repo.full_name)}">\n{padding}\n</head>\n'
        f'<body class="logged-out env-production page-responsive">\n<div id="repository-container-header">{banner}'
        f'<strong itemprop="name"><a href="/{escape(repo.full_name)}">{escape(repo.name)}</a></strong>{forked}</div>\n'
        f'<div class="Layout"><div class="Layout-main">{main}</div>{sidebar}</div>\n</body>\n</html>\n'
    )

"""The project web: every other URL, reached through the remap rule.

A request for ``/https/host/path?query`` stands for ``https://host/path?query``. The
answer comes from the scenario's ``web``/``hosts`` entries, else from the simulated
github.com / huggingface.co, else a 404 page. Locations are sent exactly as the scenario
gives them, so redirects stay in logical URL space for the checker. The archives' hosts
(Software Heritage, the Wayback Machine) are answered by ``simweb.archives`` first, and
counted as the face "archive"; paths no archive simulates fall through to the lookup above.

``/mirror/https/host/path?query`` answers the same, as a reverse proxy of that site would
(nginx's ``proxy_redirect``): a Location into the mirrored site itself (absolute, or a path
on it) is rewritten into the mirror's own address space, in the same form (absolute stays
absolute, a path stays a path); a Location to any other site passes unchanged. A checker
behind a remap to a mirror must map those physical Locations back to the site's URLs.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from urllib.parse import urljoin, urlsplit

from aiohttp import web
from multidict import CIMultiDict

from .archives import archive_answer, archive_host, is_save_post
from .faults import DROPPED, trouble
from .pages import default_body, html_page
from .respond import Drop, drop, stream
from .sites import GITHUB, github_page, hub_page, site_of
from .state import SimState
from .world import Page, World

NOT_FOUND = Page(status=404)
MIRROR = "/mirror"  # path prefix of the reverse-proxy form of the web face


def logical_url(raw_path: str) -> str | None:
    """``/https/host/path?q`` -> ``https://host/path?q``; None when the path is not in that form.

    The mirror form ``/mirror/https/host/path?q`` stands for the same URL.
    """
    if raw_path.startswith(MIRROR + "/"):
        raw_path = raw_path[len(MIRROR):]
    scheme, _, rest = raw_path.lstrip("/").partition("/")
    host = rest.split("/", 1)[0].split("?", 1)[0]
    if scheme not in ("http", "https") or not host:
        return None
    return f"{scheme}://{rest}"


def mirrored_location(location: str, url: str, mirror_origin: str) -> str:
    """The Location a reverse proxy of ``url``'s site sends for the site's own ``location``.

    Into the same site (same scheme and host): rewritten under ``mirror_origin/mirror/scheme/host``,
    absolute when the site's was absolute, a path when it was a path. Anywhere else: unchanged.
    """
    target, site = urlsplit(urljoin(url, location)), urlsplit(url)
    if (target.scheme, (target.hostname or "").lower()) != (site.scheme, (site.hostname or "").lower()):
        return location
    path = f"{MIRROR}/{target.scheme}/{target.netloc}{target.path or '/'}" + (f"?{target.query}" if target.query else "")
    return mirror_origin + path if urlsplit(location).scheme else path


def answer_for(world: World, url: str) -> Page:
    """Scenario entries first, then the simulated sites, then 404."""
    page = world.page(url)
    if page is not None:
        return page
    parts = urlsplit(url)
    site = site_of(parts)
    if site == GITHUB:
        return github_page(world.github, parts)
    if site is not None:
        return hub_page(world.hub, parts)
    return NOT_FOUND


class WebFace:
    def __init__(self, state: SimState) -> None:
        self.state = state

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.StreamResponse:
        url = logical_url(request.raw_path)
        if url is None:
            return web.Response(status=400, text="simweb: expected /{http|https}/{host}/{path}\n")
        archive = archive_host(url)  # Software Heritage and the Wayback Machine: their own face, by host
        face = "web" if archive is None else "archive"
        status = None  # stays None when dropped, or when the client gives up first
        try:
            fault = trouble(self.state, face, request.method, url)
            if fault == DROPPED:
                raise Drop
            if fault is None and archive is not None:
                answered = await archive_answer(self.state, request, url)
                if answered is not None:
                    status = answered.status
                    return answered
            page = Page(status=fault) if fault is not None else answer_for(self.state.world, url)
            if page.location is not None and request.raw_path.startswith(MIRROR + "/"):
                page = replace(page, location=mirrored_location(page.location, url, f"http://{request.host}"))
            response = await self.render(request, page)
            status = response.status
            return response
        except Drop:
            return drop(request)
        finally:
            host = (urlsplit(url).hostname or "").lower()
            self.state.record(face, request.method, url, host, status, save=is_save_post(request.method, url))

    @staticmethod
    async def render(request: web.Request, page: Page) -> web.StreamResponse:
        if page.drop:
            raise Drop
        if page.delay:
            await asyncio.sleep(page.delay)
        headers: CIMultiDict[str] = CIMultiDict(page.headers)
        if page.location is not None:
            headers["Location"] = page.location
        if page.retry_after is not None:
            headers["Retry-After"] = str(page.retry_after)
        if request.method == "HEAD" and page.head is not None:
            if page.head == 405:
                headers["Allow"] = "GET"
            return web.Response(status=page.head, headers=headers)
        if page.size is not None:
            headers.setdefault("Content-Type", page.content_type or "application/octet-stream")
            return await stream(request, page.status, page.size, headers)
        if page.body is not None:
            body = page.body
        elif page.title is not None:
            body = html_page(page.title)
        else:
            body = default_body(page.status, page.location)
        headers.setdefault("Content-Type", page.content_type or "text/html; charset=utf-8")
        return web.Response(status=page.status, body=body.encode(), headers=headers)

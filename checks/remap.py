"""Remap rules and the user's namespace: what a rule sees, and how answers come back.

A rule (lychee's ``REGEX REPLACEMENT``) rewrites the *logical* URL a paper gives into the
*physical* URL that is requested (a staging host, a mirror, the simulated web). Rules and
every other pattern a user writes (``exclude``, ``include``) see a URL in its canonical
WHATWG form, as lychee's do: ``https://example.org`` is matched as ``https://example.org/``.

A server behind a remap answers in its own (physical) namespace: its ``Location`` may name
the mirror, not the site. ``logical_location`` maps such a URL back into the user's
namespace, so that everything paperwatch reports or stores names the site the paper cites.
A physical URL is mapped back to a logical one only when the rules rewrite that logical URL
into exactly that physical URL again (a verified round trip); it is found by reading the
rule as a template, else by the prefix the rule rewrote for the request that got the answer.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import ada_url

from checks.patterns import user_pattern_problem


class RemapError(ValueError):
    """A remap rule that cannot be parsed."""


@functools.lru_cache(maxsize=8192)
def canonical(url: str) -> str:
    """``url`` as a WHATWG URL parser serializes it: a bare host gets the path ``/``, scheme and host
    are lowercased, a default port is dropped, IDN hosts become punycode, ``.``/``..`` segments are
    resolved and unsafe characters percent-encoded. A string that is no URL is returned unchanged."""
    try:
        return str(ada_url.normalize_url(url))
    except ValueError:
        return url


@dataclass(frozen=True)
class _Group:
    """A capturing group of a rule's pattern: its number, name and own sub-pattern."""

    number: int
    name: str | None
    source: str


_Part = str | _Group


@dataclass(frozen=True)
class _Template:
    """A pattern read as text: literal parts and groups, from the start of the URL, maybe to its end."""

    parts: tuple[_Part, ...]
    to_end: bool


def _group_end(pattern: str, start: int) -> int | None:
    """Index of the ``)`` closing the group opened at ``start``; escapes and character classes skipped."""
    depth, i, in_class = 0, start, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            if pattern[i + 1:i + 2] == "]":
                i += 1  # a "]" right after "[" is a literal member
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return None


def _read_pattern(pattern: str) -> _Template | None:
    """The pattern as literal text and groups, or None when it is more than that.

    An unescaped ``.`` is read as a dot (users often leave it unescaped); the round trip that
    every inversion is checked by rejects any misreading.
    """
    if not pattern.startswith("^"):
        return None
    parts: list[_Part] = []
    text: list[str] = []
    number, i, to_end = 0, 1, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            escaped = pattern[i + 1:i + 2]
            if not escaped or escaped.isalnum() or escaped == "_" or pattern[i + 2:i + 3] in ("*", "+", "?", "{"):
                return None  # \d, \w, \1, a repeated character: not literal text
            text.append(escaped)
            i += 2
            continue
        if c == "(":
            end = _group_end(pattern, i)
            if end is None:
                return None
            body = pattern[i + 1:end]
            name = None
            if body.startswith("?"):
                named = re.match(r"\?P<(\w+)>", body)
                if named is None:
                    return None  # non-capturing, look-around, flags
                name, body = named.group(1), body[named.end():]
            try:
                if re.compile(body).groups:
                    return None  # nested groups
            except re.error:
                return None
            if pattern[end + 1:end + 2] in ("*", "+", "?", "{"):
                return None  # a repeated group
            number += 1
            if text:
                parts.append("".join(text))
                text = []
            parts.append(_Group(number, name, body))
            i = end + 1
            continue
        if c == "$" and i == len(pattern) - 1:
            to_end = True
            i += 1
            continue
        if c in "*+?{}[]|^$" or pattern[i + 1:i + 2] in ("*", "+", "?", "{"):
            return None
        text.append(c)
        i += 1
    if text:
        parts.append("".join(text))
    return _Template(tuple(parts), to_end)


@dataclass(frozen=True)
class _Ref:
    """A group reference in a replacement: its number or name."""

    key: int | str


def _read_replacement(replacement: str) -> tuple[str | _Ref, ...] | None:
    """The replacement (in ``re.sub``'s ``\\g<...>`` form) as literal text and group references;
    None when it uses other escapes."""
    tokens: list[str | _Ref] = []
    for match in re.finditer(r"\\g<(\w+)>|\\(\d{1,2})|\\(.)|([^\\]+)", replacement, re.DOTALL):
        named, numbered, escaped, literal = match.groups()
        if literal is not None:
            tokens.append(literal)
        elif escaped is not None:
            if escaped != "\\":
                return None
            tokens.append("\\")
        else:
            reference = named or numbered
            tokens.append(_Ref(int(reference) if reference.isdigit() else reference))
    return tuple(tokens)


@dataclass(frozen=True)
class RemapRule:
    """``REGEX REPLACEMENT``, as lychee writes it: applied to every request URL, in its canonical form.

    Users need it for staging hosts and mirrors; the tests and the demo use it to send
    every page request to the simulated web. ``$1`` / ``${name}`` and ``\\1`` groups work.
    """

    pattern: str
    replacement: str

    @classmethod
    def parse(cls, text: str) -> "RemapRule":
        parts = text.strip().split(None, 1)
        if len(parts) != 2:
            raise RemapError(f"remap rule {text!r}: expected 'REGEX REPLACEMENT'")
        problem = user_pattern_problem(parts[0])
        if problem:
            raise RemapError(f"remap rule {text!r}: {problem}")
        return cls(parts[0], parts[1])

    @functools.cached_property
    def _regex(self) -> re.Pattern[str]:
        return re.compile(self.pattern)

    @functools.cached_property
    def _substitution(self) -> str:
        return re.sub(r"\$\{(\w+)\}|\$(\d+)", lambda m: f"\\g<{m.group(1) or m.group(2)}>", self.replacement)

    def apply(self, url: str) -> str | None:
        """The rewritten URL, or None when the rule does not match ``url``'s canonical form."""
        url = canonical(url)
        if not self._regex.search(url):
            return None
        return self._regex.sub(self._substitution, url, count=1)

    @functools.cached_property
    def _inverse(self) -> tuple[re.Pattern[str], _Template] | None:
        """A regex over this rule's outputs whose groups give back the groups of its input."""
        template = _read_pattern(self.pattern)
        tokens = _read_replacement(self._substitution)
        if template is None or tokens is None:
            return None
        groups = {part.number: part for part in template.parts if isinstance(part, _Group)}
        by_name = {part.name: part.number for part in groups.values() if part.name}
        pieces, used = [], set()
        for token in tokens:
            if isinstance(token, str):
                pieces.append(re.escape(token))
                continue
            number = by_name.get(token.key) if isinstance(token.key, str) else token.key
            if number not in groups:
                return None  # \g<0>, or a group the pattern does not have
            pieces.append(f"(?P=g{number})" if number in used else f"(?P<g{number}>{groups[number].source})")
            used.add(number)
        if used != set(groups):
            return None  # a group the replacement drops cannot be recovered
        if not template.to_end:
            pieces.append("(?P<tail>.*)")  # what the pattern did not match is kept as it was
        try:
            return re.compile("".join(pieces), re.DOTALL), template
        except re.error:
            return None

    def logical(self, physical: str) -> str | None:
        """The canonical URL this rule rewrites into ``physical``, read from the rule as a template; None
        when the rule is no template (look-arounds, classes, repeats outside groups) or ``physical``
        is not one of its outputs. The caller checks the round trip."""
        inverse = self._inverse
        if inverse is None:
            return None
        regex, template = inverse
        found = regex.fullmatch(physical)
        if found is None:
            return None
        text = "".join(part if isinstance(part, str) else found.group(f"g{part.number}") for part in template.parts)
        return canonical(text + (found.groupdict().get("tail") or ""))


def remap(url: str, rules: tuple[RemapRule, ...]) -> str | None:
    """Apply the first matching rule; None when no rule matches."""
    request = route(url, rules)
    return request.physical if request.remapped else None


@dataclass(frozen=True)
class Route:
    """Where one request for a logical URL went: the physical URL and the rule that chose it (None: as is)."""

    logical: str
    physical: str
    rule: RemapRule | None = None

    @property
    def remapped(self) -> bool:
        return self.rule is not None

    @property
    def prefixes(self) -> tuple[str, str] | None:
        """(logical prefix, physical prefix) this request's rule rewrote: the URLs minus the longest
        path tail they share, cut at a ``/`` inside both paths. None when they share no path tail."""
        logical, physical = canonical(self.logical), canonical(self.physical)
        starts = [_path_start(logical), _path_start(physical)]
        if None in starts:
            return None
        shared = 0
        while shared < min(len(logical), len(physical)) and logical[-1 - shared] == physical[-1 - shared]:
            shared += 1
        for size in range(shared, 0, -1):
            cut_l, cut_p = len(logical) - size, len(physical) - size
            if logical[cut_l] == "/" and cut_l >= starts[0] and cut_p >= starts[1]:  # type: ignore[operator]
                return logical[:cut_l], physical[:cut_p]
        return None


def _path_start(url: str) -> int | None:
    scheme_end = url.find("://")
    if scheme_end < 0:
        return None
    slash = url.find("/", scheme_end + 3)
    return slash if slash >= 0 else None


def route(url: str, rules: tuple[RemapRule, ...]) -> Route:
    """The request a logical URL becomes: the first matching rule's rewrite, else the URL itself."""
    for rule in rules:
        mapped = rule.apply(url)
        if mapped is not None:
            return Route(url, mapped, rule)
    return Route(url, url)


def _back(physical: str, request: Route, rules: tuple[RemapRule, ...]) -> str | None:
    """The logical URL the rules send to ``physical``, verified by the round trip; None when there is none."""
    target = canonical(physical)
    candidates: list[str | None] = []
    ordered = ([request.rule] if request.rule else []) + [rule for rule in rules if rule != request.rule]
    candidates += [rule.logical(target) for rule in ordered]
    prefixes = request.prefixes
    if prefixes is not None:
        logical_prefix, physical_prefix = prefixes
        if target == physical_prefix or (target.startswith(physical_prefix) and target[len(physical_prefix)] in "/?#"):
            candidates.append(canonical(logical_prefix + target[len(physical_prefix):]))
    for candidate in candidates:
        if candidate is not None and canonical(remap(candidate, rules) or "") == target:
            return candidate
    return None


@dataclass(frozen=True)
class Location:
    """Where a redirect points, in the user's namespace; ``unmapped`` is set (to the physical URL)
    when the server named a URL of the remap target itself that no rule maps back."""

    url: str
    unmapped: str | None = None


def logical_location(location: str, request: Route, rules: tuple[RemapRule, ...]) -> Location:
    """A ``Location`` answered to ``request``, as a URL of the user's namespace.

    Resolved against the URL actually requested (the server's own namespace), then mapped back
    through the rules (verified round trip). A relative Location with no such mapping is read
    against the logical URL (the server speaks the published site's paths, as a same-layout
    staging host does); an absolute one names a public URL as written, unless it lies on the
    remap target's own origin, which no public URL does: then it is ``unmapped``.
    """
    if not request.remapped:
        return Location(canonical(urljoin(request.logical, location)))
    resolved = canonical(urljoin(request.physical, location))
    found = _back(resolved, request, rules)
    if found is not None:
        return Location(found)
    if not urlsplit(location).scheme:
        return Location(canonical(urljoin(request.logical, location)))
    if _origin(resolved) == _origin(request.physical) != _origin(request.logical):
        return Location(request.logical, unmapped=resolved)
    return Location(resolved)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return parts.scheme.lower(), (parts.hostname or "").lower(), port

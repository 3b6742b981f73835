"""HTML bodies for the project web: plain pages, redirects and the error pages real servers send."""

from __future__ import annotations

from html import escape
from http import HTTPStatus


def reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def html_page(title: str, text: str = "") -> str:
    paragraph = f"<p>{escape(text)}</p>" if text else ""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">"
        f"<title>{escape(title)}</title></head>\n"
        f"<body><main><h1>{escape(title)}</h1>{paragraph}</main></body>\n</html>\n"
    )


def redirect_page(status: int, location: str | None) -> str:
    target = escape(location or "")
    return (
        f"<html><head><title>{status} {reason(status)}</title></head>"
        f"<body><h1>{reason(status)}</h1><p>The document has moved <a href=\"{target}\">here</a>.</p></body></html>\n"
    )


def error_page(status: int) -> str:
    """nginx's stock error page: what most project sites answer for a missing path."""
    title = f"{status} {reason(status)}"
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )


def default_body(status: int, location: str | None) -> str:
    if 300 <= status < 400:
        return redirect_page(status, location)
    if status >= 400:
        return error_page(status)
    return html_page("Welcome", "This page is served by the paperwatch web simulator.")

"""A parent at a browser: signs in, opens pages, sends forms, reads what the page says.

`Parent` wraps the test client (`tests.conftest.Browser`) so that tests read as what a parent
does and sees: `parent.sign_in(...)`, `parent.submit("/compte/adresse", email=...)`,
`page.errors("email")` (the message ids shown beside the field), `page.message_ids` (every
`data-message-id` of the page: flashes, alerts, field errors, the error page's `error.<status>`).
Pages are read with the standard library's HTML parser, into a small tree of `Element`s.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from idp.extensions import db
from idp.models import Account, AuditEvent

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
HIDDEN = {"script", "style", "head", "title", "template"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    children: list[Element | str] = field(default_factory=list)

    def __getitem__(self, name: str) -> str:
        return self.attrs[name]

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.attrs.get(name, default)

    def iter(self):
        """This element and every element under it, in document order."""
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter()

    def find_all(self, tag: str | None = None, **attrs: str) -> list[Element]:
        return [
            e
            for e in self.iter()
            if (tag is None or e.tag == tag)
            and all(e.attrs.get(_attr(name)) == value for name, value in attrs.items())
        ]

    @property
    def text(self) -> str:
        """The words a reader sees in the element, whitespace collapsed."""
        parts: list[str] = []
        self._collect(parts)
        return " ".join(" ".join(parts).split())

    def _collect(self, parts: list[str]) -> None:
        for child in self.children:
            if isinstance(child, str):
                parts.append(child)
            elif child.tag not in HIDDEN:
                child._collect(parts)


def _attr(keyword: str) -> str:
    """`class_` → class, `data_action` → data-action."""
    return keyword.rstrip("_").replace("_", "-")


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {name: value or "" for name, value in attrs})
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Element(tag, {name: value or "" for name, value in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(markup: str) -> Element:
    builder = _TreeBuilder()
    builder.feed(markup)
    builder.close()
    return builder.root


@dataclass(frozen=True)
class Shown:
    """A message on the page: its id (None for plain text) and its words."""

    id: str | None
    text: str


class Page:
    """A response as the parent sees it; other attributes are the response's (status_code…)."""

    def __init__(self, response: Any) -> None:
        self.response = response
        self._tree: Element | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.response, name)

    @property
    def status(self) -> int:
        return self.response.status_code

    @property
    def html(self) -> str:
        """The markup, with entities such as &#39; decoded."""
        return html.unescape(self.response.get_data(as_text=True))

    @property
    def tree(self) -> Element:
        if self._tree is None:
            self._tree = parse(self.response.get_data(as_text=True))
        return self._tree

    @property
    def text(self) -> str:
        """The words of the page's body, as a reader sees them."""
        body = self.tree.find_all("body")
        return (body[0] if body else self.tree).text

    @property
    def message_ids(self) -> list[str]:
        """Every `data-message-id` of the page, in order."""
        return [e["data-message-id"] for e in self.tree.iter() if "data-message-id" in e.attrs]

    @property
    def alert_ids(self) -> list[str | None]:
        """The ids of the page's alerts (`role="alert"`): what went wrong, flashes aside."""
        return [e.get("data-message-id") for e in self.tree.find_all(role="alert")]

    @property
    def messages(self) -> list[Shown]:
        """Every message with an id, with its words."""
        return [
            Shown(e["data-message-id"], e.text)
            for e in self.tree.iter()
            if "data-message-id" in e.attrs
        ]

    def shown(self, name: str) -> list[Shown]:
        """The messages beside a field: the elements its `aria-describedby` names as errors."""
        controls = [e for e in self.tree.iter() if e.get("name") == name and e.tag != "form"]
        assert controls, f"no field {name!r} on the page"
        ids = (controls[0].get("aria-describedby") or "").split()
        by_id = {e.get("id"): e for e in self.tree.iter() if "error" in (e.get("class") or "")}
        return [Shown(by_id[i].get("data-message-id"), by_id[i].text) for i in ids if i in by_id]

    def errors(self, name: str) -> list[str | None]:
        """The ids of the errors shown beside the field `name` (None for an error without id)."""
        return [item.id for item in self.shown(name)]

    def error_texts(self, name: str) -> list[str]:
        """The words of the errors shown beside the field `name`."""
        return [item.text for item in self.shown(name)]

    def form(self, action: str | None = None, button: str | None = None) -> Element:
        """The form posting to `action`, or holding the button `button`, or the page's only one."""
        forms = self.tree.find_all("form")
        if action is not None:
            forms = [f for f in forms if _path(f.get("action") or "") == _path(action)]
        if button is not None:
            forms = [f for f in forms if any(b.text == button for b in f.find_all("button"))]
        assert len(forms) == 1, f"{len(forms)} forms match action={action!r} button={button!r}"
        return forms[0]

    def links(self) -> list[str]:
        return [a["href"] for a in self.tree.find_all("a") if "href" in a.attrs]


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def hidden_fields(form: Element) -> dict[str, str]:
    """What the browser sends without the parent typing it (the CSRF token, `fresh`…)."""
    return {
        e["name"]: e.get("value", "")
        for e in form.find_all("input")
        if e.get("type") == "hidden" and "name" in e.attrs
    }


class Parent:
    """A parent using one browser (its own cookies) against the provider."""

    def __init__(self, browser: Any, user_agent: str | None = None) -> None:
        self.browser = browser
        self.account_id: int | None = None
        if user_agent:
            browser.environ_base["HTTP_USER_AGENT"] = user_agent

    def open(self, path: str, follow: bool = False, **kwargs: Any) -> Page:
        page = Page(self.browser.get(path, **kwargs))
        return self.follow(page) if follow else page

    def follow(self, page: Page, hops: int = 10) -> Page:
        """Follow redirects inside the provider; stop at the first one that leaves it."""
        for _ in range(hops):
            if page.status not in (302, 303) or page.location.startswith("http"):
                return page
            page = Page(self.browser.get(page.location))
        raise AssertionError("too many redirects")

    def submit(
        self,
        path: str,
        action: str | None = None,
        button: str | None = None,
        follow: bool = False,
        headers: dict | None = None,
        environ_base: dict | None = None,
        **fields: Any,
    ) -> Page:
        """Open the page, then send its form (by `action` or `button`) with the hidden fields
        it carries (its CSRF token) and the given fields. `environ_base` goes to the POST
        (`{"REMOTE_ADDR": …}` for another client address)."""
        page = self.open(path, headers=headers)
        return self.submit_on(page, action, button, follow, headers, environ_base, **fields)

    def submit_on(
        self,
        page: Page,
        action: str | None = None,
        button: str | None = None,
        follow: bool = False,
        headers: dict | None = None,
        environ_base: dict | None = None,
        **fields: Any,
    ) -> Page:
        """Send a form of a page already open."""
        form = page.form(action, button)
        target = form.get("action") or page.request.path
        data = {**hidden_fields(form), **fields}
        extra = {"environ_base": environ_base} if environ_base else {}
        answer = Page(self.browser.post(_path(target), data=data, headers=headers or {}, **extra))
        return self.follow(answer) if follow else answer

    def open_link(self, path: str) -> Page:
        """Open a mailed link as a parent does: the page, then its one confirming button if
        it shows one (`data-action="confirm-link"`, a POST back to the link's address)."""
        page = self.open(path)
        buttons = page.tree.find_all("button", data_action="confirm-link")
        if page.status != 200 or not buttons:
            return page
        forms = [f for f in page.tree.find_all("form") if buttons[0] in f.iter()]
        data = hidden_fields(forms[0])
        return Page(self.browser.post(_path(forms[0].get("action") or path), data=data))

    def csrf_token(self, path: str = "/login") -> str:
        """A CSRF token of this browser's session, read from a page's form."""
        tokens = self.open(path).tree.find_all("input", name="csrf_token")
        assert tokens, f"no csrf_token on {path}"
        return tokens[0]["value"]

    def post(self, path: str, page: str = "/login", **fields: Any) -> Page:
        """A POST a page's button could make, with the token of the form on `page`."""
        data = {"csrf_token": self.csrf_token(page), **fields}
        return Page(self.browser.post(path, data=data))

    def sign_in(
        self,
        identifier: str,
        password: str,
        path: str = "/login",
        follow: bool = False,
        environ_base: dict | None = None,
    ) -> Page:
        """Type the identifier and password on the login page (`path` may carry `?next=…`);
        `environ_base` goes to the POST (`{"REMOTE_ADDR": …}`)."""
        page = self.open(path)
        fields = {"identifier": identifier, "password": password}
        return self.submit_on(page, "/login", None, follow, None, environ_base, **fields)

    def signed_in_as(self, account: Account, password: str) -> Parent:
        """Sign in and check it worked (the provider sends the parent on); returns self."""
        answer = self.sign_in(account.identifier, password)
        assert answer.status == 302, (answer.status, answer.message_ids)
        self.account_id = account.id
        return self

    def events(self, account: Account | None = None) -> list[str]:
        """The audit trail of the account (the one of `signed_in_as` by default), oldest first."""
        account_id = account.id if account is not None else self.account_id
        assert account_id is not None, "no account: sign in first or name one"
        query = db.select(AuditEvent.event).filter_by(account_id=account_id).order_by(AuditEvent.id)
        return list(db.session.scalars(query))


def message_ids_in(markup: str) -> list[str]:
    """The `data-message-id`s of a piece of markup (a page read over real HTTP)."""
    return [e["data-message-id"] for e in parse(markup).iter() if "data-message-id" in e.attrs]

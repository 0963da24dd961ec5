"""Sharing a draw: the QR code of its page, the link previews (Open Graph and Twitter
card tags), the share box, and the widget that only the listed origins may frame."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import segno
from fastapi import FastAPI

from fairdraw.config import Settings
from fairdraw.web.app import create_app
from fairdraw.web.security import CONTENT_SECURITY_POLICY
from tests.support.app import MANAGER, login, make_settings
from tests.support.github_server import GitHubStandIn

PRIZES = [{"name": "Keyboard", "quantity": 1}, {"name": "Sticker", "quantity": 2}]
ENTRANTS = [("octocat", 583231), ("hubot", 480938), ("monalisa", 2)]
SVG = "{http://www.w3.org/2000/svg}"
_META = re.compile(r'<meta (?:property|name)="([^"]+)" content="([^"]*)">')


async def create_draw(
    client: httpx.AsyncClient, csrf: str, expect: int = 201, **fields: Any
) -> dict[str, Any]:
    body = {"title": "Meetup #42 giveaway", "prizes": PRIZES, "open": True, **fields}
    response = await client.post("/api/v1/draws", json=body, headers={"X-CSRF-Token": csrf})
    assert response.status_code == expect, response.text
    created: dict[str, Any] = response.json()
    return created


async def enter_and_draw(
    client: httpx.AsyncClient, csrf: str, github: GitHubStandIn, draw_id: str
) -> dict[str, Any]:
    headers = {"X-CSRF-Token": csrf}
    for name, user_id in ENTRANTS:
        github.add_user(name, user_id)
        entered = await client.post(
            f"/api/v1/draws/{draw_id}/entries", json={"github": name}, headers=headers
        )
        assert entered.status_code == 201, entered.text
    for action in ("close", "draw"):
        response = await client.post(f"/api/v1/draws/{draw_id}/{action}", headers=headers)
        assert response.status_code == 200, response.text
    drawn: dict[str, Any] = response.json()
    return drawn


def meta_tags(page: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in _META.findall(page)}


def preview(title: str, description: str, url: str) -> dict[str, str]:
    """Every tag partials/share_meta.html writes, as a page should carry them."""
    return {
        "description": description,
        "og:type": "website",
        "og:site_name": "fairdraw",
        "og:title": title,
        "og:description": description,
        "og:url": url,
        "twitter:card": "summary",
        "twitter:title": title,
        "twitter:description": description,
    }


def page_tags(page: str) -> dict[str, str]:
    """The page's preview tags (base.html's own viewport and colour-scheme left out)."""
    tags = meta_tags(page)
    return {k: v for k, v in tags.items() if k not in ("viewport", "color-scheme")}


def parse_svg(document: bytes) -> ET.Element:
    # The document is the test server's own answer; it holds no entity declarations.
    return ET.fromstring(document)  # noqa: S314


def qr_modules(svg: bytes) -> list[list[bool]]:
    """The dark modules of a segno SVG, read back from its path (border 4, one unit per
    module): the code as a reader sees it."""
    root = parse_svg(svg)
    (path,) = [p for p in root.iter(f"{SVG}path") if p.get("class") == "qrline"]
    dark: set[tuple[int, int]] = set()
    x = y = 0.0
    for op, a, b in re.findall(r"([Mmh])(-?[0-9.]+)(?: (-?[0-9.]+))?", path.get("d", "")):
        if op == "M":
            x, y = float(a), float(b)
        elif op == "m":
            x, y = x + float(a), y + float(b)
        else:
            dark.update((int(x) + i, int(y)) for i in range(int(a)))
            x += float(a)
    size = int(root.get("width", "0")) // 4 - 8
    return [[(col + 4, row + 4) in dark for col in range(size)] for row in range(size)]


def directives(policy: str) -> dict[str, str]:
    pairs = (d.strip().partition(" ") for d in policy.split(";"))
    return {name: value for name, _, value in pairs}


# -- the QR code ------------------------------------------------------------------------


async def test_the_qr_code_is_an_svg_of_the_draws_public_page(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient
) -> None:
    csrf = await login(app_client, MANAGER)
    draw = await create_draw(app_client, csrf)
    url = f"http://testserver/draws/{draw['id']}"
    response = await anon_client.get(f"/draws/{draw['id']}/qr.svg")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/svg+xml"
    assert response.headers["cache-control"] == "public, max-age=86400"
    assert response.headers["vary"] == "Host, X-Forwarded-Host, X-Forwarded-Proto"
    assert response.headers["content-disposition"] == (
        f'inline; filename="fairdraw-{draw["id"]}-qr.svg"'
    )
    assert "set-cookie" not in response.headers
    root = parse_svg(response.content)
    assert root.tag == f"{SVG}svg"
    assert root.findtext(f"{SVG}title") == f"QR code: {url}"
    expected = segno.make(url, error="m")
    assert qr_modules(response.content) == [[bool(m) for m in row] for row in expected.matrix]
    missing = await anon_client.get("/draws/nosuchdraw/qr.svg")
    assert missing.status_code == 404


async def test_only_the_draws_managers_see_its_qr_code_on_the_page(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient
) -> None:
    csrf = await login(app_client, MANAGER)
    draw = await create_draw(app_client, csrf)
    qr = f'<img src="/draws/{draw["id"]}/qr.svg"'
    download = f'href="/draws/{draw["id"]}/qr.svg" download="fairdraw-{draw["id"]}-qr.svg"'
    managed = (await app_client.get(f"/draws/{draw['id']}")).text
    assert qr in managed
    assert download in managed
    public = (await anon_client.get(f"/draws/{draw['id']}")).text
    assert qr not in public
    assert "qr.svg" not in public
    # Everybody gets the link to copy; the button is the script's to show.
    for page in (managed, public):
        assert (
            '<input class="input fd-share-url" id="fd-share-url" type="url" readonly '
            f'value="http://testserver/draws/{draw["id"]}">'
        ) in page
        assert '<button type="button" class="button is-link fd-copy-link" ' in page
        assert 'data-copy="fd-share-url" hidden>Copy link</button>' in page
        assert '<script src="/static/js/share.js" defer></script>' in page


# -- link previews ----------------------------------------------------------------------


async def test_the_draw_and_results_pages_describe_the_draws_state(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient, github: GitHubStandIn
) -> None:
    csrf = await login(app_client, MANAGER)
    draw = await create_draw(
        app_client, csrf, description="Bring a badge.", deadline="2099-01-02T03:04:00Z"
    )
    page_url = f"http://testserver/draws/{draw['id']}"
    open_page = (await anon_client.get(f"/draws/{draw['id']}")).text
    assert page_tags(open_page) == preview(
        "Meetup #42 giveaway",
        "Open for entries until 2 Jan 2099, 03:04 UTC. 0 entries. Bring a badge.",
        page_url,
    )
    assert f'<link rel="canonical" href="{page_url}">' in open_page

    plain = await create_draw(app_client, csrf, title="No deadline")
    drawn = await enter_and_draw(app_client, csrf, github, plain["id"])
    names = [w["login"] for w in sorted(drawn["result"]["winners"], key=lambda w: w["slot"])]
    results = (await anon_client.get(f"/draws/{plain['id']}/results")).text
    assert page_tags(results) == preview(
        "No deadline",
        f"Drawn. Winners: {', '.join(names)}.",
        f"http://testserver/draws/{plain['id']}/results",
    )
    closed = await create_draw(app_client, csrf, title="Closed one")
    await app_client.post(f"/api/v1/draws/{closed['id']}/close", headers={"X-CSRF-Token": csrf})
    closed_page = (await anon_client.get(f"/draws/{closed['id']}")).text
    assert meta_tags(closed_page)["og:description"] == (
        "Entries closed. 0 entries. Winners not drawn yet."
    )


async def test_a_preview_gives_the_deadline_in_the_draws_zone_by_its_full_name(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient
) -> None:
    csrf = await login(app_client, MANAGER)
    # A wall time in the draw's zone: 18:00 in Berlin is 17:00 UTC in January.
    draw = await create_draw(
        app_client, csrf, deadline="2030-01-15T18:00", time_zone="Europe/Berlin"
    )
    page = (await anon_client.get(f"/draws/{draw['id']}")).text
    description = (
        "Open for entries until 15 Jan 2030, 18:00 Central European Standard Time. 0 entries."
    )
    tags = meta_tags(page)
    assert tags["og:description"] == description
    assert tags["twitter:description"] == description
    assert "UTC" not in tags["og:description"]
    # An alias is stored as its zone and named as it.
    kyiv = await create_draw(app_client, csrf, deadline="2030-07-01T09:30", time_zone="Europe/Kiev")
    kyiv_page = (await anon_client.get(f"/draws/{kyiv['id']}")).text
    assert meta_tags(kyiv_page)["og:description"] == (
        "Open for entries until 1 Jul 2030, 09:30 Eastern European Summer Time. 0 entries."
    )


async def test_raffle_and_lottery_pages_have_previews(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient
) -> None:
    csrf = await login(app_client, MANAGER)
    headers = {"X-CSRF-Token": csrf}
    body = {"title": "Charity raffle", "prizes": [{"name": "Hamper", "quantity": 1}]}
    raffle = await app_client.post(
        "/api/v1/raffles", json={**body, "ticket_count": 50, "open": True}, headers=headers
    )
    assert raffle.status_code == 201, raffle.text
    raffle_id = raffle.json()["id"]
    page = (await anon_client.get(f"/draws/{raffle_id}")).text
    assert page_tags(page) == preview(
        "Charity raffle",
        "Open for entries. 0 of 50 tickets claimed.",
        f"http://testserver/draws/{raffle_id}",
    )
    assert 'id="fd-share-url"' in page

    lottery = await app_client.post(
        "/api/v1/lotteries",
        json={
            "name": "Daily coffee",
            "prize": "Coffee",
            "description": "Office only.",
            "start": datetime.now(UTC).date().isoformat(),
        },
        headers=headers,
    )
    assert lottery.status_code == 201, lottery.text
    lottery_id = lottery.json()["id"]
    lottery_page = (await anon_client.get(f"/lotteries/{lottery_id}")).text
    assert page_tags(lottery_page) == preview(
        "Daily coffee",
        "A draw every day at midnight (UTC). Prize: Coffee. Office only.",
        f"http://testserver/lotteries/{lottery_id}",
    )


@pytest.fixture
async def proxied_client(
    app: FastAPI, store_url: str, github: GitHubStandIn
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a second app on the same store (``app`` made the accounts) that trusts
    its peer (127.0.0.1, as httpx's in-process transport reports) as a reverse proxy."""
    settings: Settings = make_settings(store_url, github.url, trusted_proxies=["127.0.0.1/32"])
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://internal") as client:
            yield client


async def test_addresses_follow_a_trusted_proxy(
    proxied_client: httpx.AsyncClient, app_client: httpx.AsyncClient
) -> None:
    csrf = await login(proxied_client, MANAGER)
    draw = await create_draw(proxied_client, csrf)
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "draws.example.org"}
    page = (await proxied_client.get(f"/draws/{draw['id']}", headers=forwarded)).text
    public = f"https://draws.example.org/draws/{draw['id']}"
    assert meta_tags(page)["og:url"] == public
    qr = await proxied_client.get(f"/draws/{draw['id']}/qr.svg", headers=forwarded)
    assert parse_svg(qr.content).findtext(f"{SVG}title") == f"QR code: {public}"
    # The presenter's code of the results, shown on a venue screen, too.
    present = await proxied_client.get(f"/draws/{draw['id']}/present", headers=forwarded)
    assert f"<title>QR code: {public}/results</title>" in present.text
    assert f'href="{public}/results"' in present.text
    # A header that is no host is ignored; so is anything from a peer that is no proxy.
    odd = {"X-Forwarded-Proto": "gopher", "X-Forwarded-Host": "evil/path"}
    page = (await proxied_client.get(f"/draws/{draw['id']}", headers=odd)).text
    assert meta_tags(page)["og:url"] == f"http://internal/draws/{draw['id']}"
    csrf = await login(app_client, MANAGER)
    other = await create_draw(app_client, csrf)
    page = (await app_client.get(f"/draws/{other['id']}", headers=forwarded)).text
    assert meta_tags(page)["og:url"] == f"http://testserver/draws/{other['id']}"


# -- the embedded widget ----------------------------------------------------------------


async def test_only_the_listed_origins_may_frame_the_widget(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient, github: GitHubStandIn
) -> None:
    csrf = await login(app_client, MANAGER)
    origins = ["https://blog.example.org", "https://news.example.com:8443"]
    draw = await create_draw(app_client, csrf, embed_origins=origins)
    assert draw["embed_origins"] == origins
    embed = await anon_client.get(f"/draws/{draw['id']}/embed")
    assert embed.status_code == 200
    policy = directives(embed.headers["content-security-policy"])
    assert policy["frame-ancestors"] == "https://blog.example.org https://news.example.com:8443"
    assert {k: v for k, v in policy.items() if k != "frame-ancestors"} == {
        k: v for k, v in directives(CONTENT_SECURITY_POLICY).items() if k != "frame-ancestors"
    }
    assert "x-frame-options" not in embed.headers
    assert "set-cookie" not in embed.headers
    assert (
        f'<a class="fd-embed-enter" href="http://testserver/draws/{draw["id"]}" '
        'target="_blank" rel="noopener">Enter this draw</a>'
    ) in embed.text
    assert "<form" not in embed.text
    # Every other page of the same draw still refuses every frame.
    for path in (f"/draws/{draw['id']}", f"/draws/{draw['id']}/qr.svg", "/"):
        response = await anon_client.get(path)
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY

    unlisted = await create_draw(app_client, csrf, title="Not embeddable")
    assert unlisted["embed_origins"] == []
    refused = await anon_client.get(f"/draws/{unlisted['id']}/embed")
    assert directives(refused.headers["content-security-policy"])["frame-ancestors"] == "'none'"
    assert refused.headers["x-frame-options"] == "DENY"

    drawn = await enter_and_draw(app_client, csrf, github, draw["id"])
    result = (await anon_client.get(f"/draws/{draw['id']}/embed")).text
    for winner in drawn["result"]["winners"]:
        assert (
            f'<li><span class="fd-embed-prize">{winner["prize"]}</span>: '
            f"<strong>{winner['login']}</strong></li>"
        ) in result


async def test_a_raffle_lists_the_sites_that_may_frame_its_widget(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient
) -> None:
    csrf = await login(app_client, MANAGER)
    headers = {"X-CSRF-Token": csrf}
    body = {"title": "Charity raffle", "prizes": PRIZES, "ticket_count": 50, "open": True}
    origins = ["https://charity.example.org"]
    made = await app_client.post(
        "/api/v1/raffles", json=body | {"embed_origins": origins}, headers=headers
    )
    assert made.status_code == 201, made.text
    raffle = made.json()
    assert raffle["embed_origins"] == origins
    embed = await anon_client.get(f"/draws/{raffle['id']}/embed")
    policy = directives(embed.headers["content-security-policy"])
    assert policy["frame-ancestors"] == "https://charity.example.org"
    assert ">Claim a ticket</a>" in embed.text
    # Refused as for giveaways, with nothing stored.
    bad = await app_client.post(
        "/api/v1/raffles", json=body | {"embed_origins": ["https://a.example/x"]}, headers=headers
    )
    assert bad.status_code == 422
    assert bad.json()["errors"] == {
        "embed_origins": "Not an origin: 'https://a.example/x'; use https://host or "
        "https://host:port, without a path"
    }
    # A draft raffle's sites are edited like its other settings.
    draft = await app_client.post("/api/v1/raffles", json=body | {"open": False}, headers=headers)
    edited = await app_client.patch(
        f"/api/v1/draws/{draft.json()['id']}", json={"embed_origins": origins}, headers=headers
    )
    assert (edited.status_code, edited.json()["embed_origins"]) == (200, origins)


@pytest.mark.parametrize(
    ("origins", "message"),
    [
        (["http://blog.example.org"], "Not an origin: 'http://blog.example.org'"),
        (["https://blog.example.org/page"], "Not an origin: 'https://blog.example.org/page'"),
        (["https://a.example;script-src *"], "Not an origin: 'https://a.example;script-src *'"),
        (["https://user@a.example"], "Not an origin: 'https://user@a.example'"),
        (["https://*.example.org"], "Not an origin: 'https://*.example.org'"),
        (["https://a.example:99999"], "Not an origin: 'https://a.example:99999'"),
        ([f"https://site{i}.example" for i in range(11)], "At most 10 origins"),
    ],
)
async def test_embed_origins_are_https_origins_at_most_ten(
    app_client: httpx.AsyncClient, origins: list[str], message: str
) -> None:
    csrf = await login(app_client, MANAGER)
    refused = await create_draw(app_client, csrf, expect=422, embed_origins=origins)
    assert refused["code"] == "invalid_input"
    assert set(refused["errors"]) == {"embed_origins"}
    assert refused["errors"]["embed_origins"].startswith(message)


async def test_embed_origins_are_normalised(app_client: httpx.AsyncClient) -> None:
    csrf = await login(app_client, MANAGER)
    typed = [
        "HTTPS://Blog.Example.org/",
        "https://blog.example.org",
        " http://127.0.0.1:8080 ",
        "http://localhost",
        "https://[2001:db8::1]:443",
    ] + [f"https://site{i}.example" for i in range(6)]
    draw = await create_draw(app_client, csrf, embed_origins=typed)
    assert draw["embed_origins"] == [
        "https://blog.example.org",
        "http://127.0.0.1:8080",
        "http://localhost",
        "https://[2001:db8::1]:443",
    ] + [f"https://site{i}.example" for i in range(6)]
    stored = (await app_client.get(f"/api/v1/draws/{draw['id']}")).json()
    assert stored["embed_origins"] == draw["embed_origins"]


async def test_the_new_draw_form_takes_embed_origins(app_client: httpx.AsyncClient) -> None:
    await login(app_client, MANAGER)
    form_page = await app_client.get("/draws/new")
    token = re.search(r'name="csrf_token" value="([^"]*)"', form_page.text)
    assert token
    assert 'name="embed_origins"' in form_page.text
    fields = {
        "csrf_token": token[1],
        "title": "Embedded",
        "prizes.0.name": "Mug",
        "prizes.0.quantity": "1",
        "open": "yes",
    }
    bad = await app_client.post(
        "/draws/new", data={**fields, "embed_origins": "http://blog.example.org"}
    )
    assert bad.status_code == 422
    assert 'id="embed_origins-error"' in bad.text
    created = await app_client.post(
        "/draws/new",
        data={
            **fields,
            "embed_origins": "https://a.example\r\nhttps://b.example, https://c.example",
        },
    )
    assert created.status_code == 303, created.text
    draw_id = created.headers["location"].rsplit("/", 1)[1]
    draw = (await app_client.get(f"/api/v1/draws/{draw_id}")).json()
    assert draw["embed_origins"] == ["https://a.example", "https://b.example", "https://c.example"]

"""What the pages say about a draw's randomness: plainly that it trusts its operator
without a beacon; with one, the round that decides it, and while that round is not out,
that the draw waits for it (the API with ``Retry-After``, the Draw button back on the
draw's page, which the scheduler then draws by itself)."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from fairdraw.config import Settings
from fairdraw.web.deps import Services
from fairdraw.web.pages.time_format import moment_in
from tests.integration.test_fairness_v2 import act, beacon_settings, create, enter_all
from tests.integration.test_lottery_api import (
    ANN,
    BERLIN,
    midday,
    past_rounds,
    stored_lottery,
    today_in,
)
from tests.support.app import MANAGER, login
from tests.support.drand_relay import DrandRelays
from tests.support.forms import FormBrowser, text_of
from tests.support.github_server import GitHubStandIn

NO_BEACON = (
    "This draw trusts its operator: no public randomness beacon is used, so whoever runs "
    "this server could know the seed before the entries are sealed."
)
NO_BEACON_LINE = "This draw trusts its operator (no beacon)."


def services_of(app: FastAPI) -> Services:
    services: Services = app.state.services
    return services


def epoch_ms(stamp: str) -> int:
    return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1000)


async def closed_draw(
    client: httpx.AsyncClient, entrant: httpx.AsyncClient, github: GitHubStandIn, ids: range
) -> tuple[str, dict[str, Any]]:
    """A giveaway of MANAGER's, entered by ``ids`` and closed: its CSRF token and JSON."""
    csrf = await login(client, MANAGER)
    draw = await create(client, csrf)
    await enter_all(entrant, github, draw["id"], ids)
    return csrf, await act(client, csrf, draw["id"], "close")


class TestWithoutABeacon:
    """FAIRDRAW_BEACON=none (the test default)."""

    async def test_results_embed_and_presenter_pages_say_the_draw_trusts_its_operator(
        self,
        app_client: httpx.AsyncClient,
        anon_client: httpx.AsyncClient,
        github: GitHubStandIn,
    ) -> None:
        csrf, draw = await closed_draw(app_client, anon_client, github, range(900, 903))
        assert draw["seal"]["beacon"] is None
        await act(app_client, csrf, draw["id"], "draw")

        results = await anon_client.get(f"/draws/{draw['id']}/results")
        assert results.status_code == 200
        shown = text_of(results.text)
        assert NO_BEACON in shown
        assert "Beacon round" not in shown
        assert (
            "beacon No beacon: the check passes but says plainly that this draw trusts its "
            "operator." in shown
        )
        embed = await anon_client.get(f"/draws/{draw['id']}/embed")
        assert embed.status_code == 200
        assert NO_BEACON_LINE in text_of(embed.text)
        present = await app_client.get(f"/draws/{draw['id']}/present")
        assert present.status_code == 200
        assert NO_BEACON_LINE in text_of(present.text)

    async def test_lottery_pages_say_each_round_trusts_its_operator(
        self, app: FastAPI, anon_client: httpx.AsyncClient, redis: Redis
    ) -> None:
        past = await past_rounds(app, redis)
        url = f"/lotteries/{past.lottery_id}/rounds/{past.first.isoformat()}"
        round_page = await anon_client.get(url)
        assert round_page.status_code == 200
        assert (
            "This round trusts its operator: no public randomness beacon is used, so whoever "
            "runs this server could know the seed before the ballots are sealed."
        ) in text_of(round_page.text)
        lottery_page = await anon_client.get(f"/lotteries/{past.lottery_id}")
        assert lottery_page.status_code == 200
        # Each of the three past rounds is a draw, the one without ballots too.
        rounds = text_of(lottery_page.text).split("Latest rounds", 1)[1]
        assert rounds.count(NO_BEACON_LINE) == 3


class TestSealedWithABeacon:
    @pytest.fixture
    def app_settings(
        self, store_url: str, github: GitHubStandIn, drand: DrandRelays, tmp_path: Path
    ) -> Settings:
        return beacon_settings(store_url, github, drand, tmp_path, margin=0)

    async def test_the_results_page_names_the_beacon_round_the_winners_follow_from(
        self,
        app_client: httpx.AsyncClient,
        anon_client: httpx.AsyncClient,
        github: GitHubStandIn,
    ) -> None:
        csrf, draw = await closed_draw(app_client, anon_client, github, range(910, 913))
        bound = draw["seal"]["beacon"]["round"]
        due = moment_in(epoch_ms(draw["seal"]["beacon"]["due_at"]), "UTC")
        await act(app_client, csrf, draw["id"], "draw")

        results = await anon_client.get(f"/draws/{draw['id']}/results")
        assert results.status_code == 200
        shown = text_of(results.text)
        assert f"Beacon round drand round {bound}, published {due.text}" in shown
        assert (
            f"The winners follow from the sealed list, the revealed seed and drand round "
            f"{bound}: anyone who re-runs the draw with them gets the same winners."
        ) in shown
        assert "trusts its operator" not in shown
        for check in ("beacon", "openings", "log"):
            assert f"<dt>{check}</dt>" in results.text
        embed = await anon_client.get(f"/draws/{draw['id']}/embed")
        assert f"The winners follow from drand beacon round {bound}." in text_of(embed.text)


class TestWaitingForTheBeacon:
    """The bound round is the first one more than eight seconds after the seal."""

    @pytest.fixture
    def app_settings(
        self, store_url: str, github: GitHubStandIn, drand: DrandRelays, tmp_path: Path
    ) -> Settings:
        return beacon_settings(store_url, github, drand, tmp_path, margin=8)

    async def test_the_api_answers_beacon_pending_with_retry_after(
        self,
        app: FastAPI,
        app_client: httpx.AsyncClient,
        anon_client: httpx.AsyncClient,
        github: GitHubStandIn,
    ) -> None:
        services_of(app).drawing._beacon_wait = 1.0
        csrf, draw = await closed_draw(app_client, anon_client, github, range(920, 923))
        bound = draw["seal"]["beacon"]
        response = await app_client.post(
            f"/api/v1/draws/{draw['id']}/draw", headers={"X-CSRF-Token": csrf}
        )
        answered_ms = time.time() * 1000
        assert response.status_code == 503
        problem = response.json()
        assert problem["code"] == "beacon_pending"
        assert (problem["round"], problem["due_at"]) == (bound["round"], bound["due_at"])
        retry_after = int(response.headers["Retry-After"])
        assert problem["retry_after"] == retry_after
        expected = (epoch_ms(bound["due_at"]) - answered_ms) / 1000
        assert retry_after >= 1
        assert expected - 1 <= retry_after <= expected + 2

        page = await anon_client.get(f"/draws/{draw['id']}")
        due = moment_in(epoch_ms(bound["due_at"]), "UTC")
        assert (
            f"Beacon round drand round {bound['round']} — waiting for beacon round "
            f"{bound['round']}, due {due.text}"
        ) in text_of(page.text)
        embed = await anon_client.get(f"/draws/{draw['id']}/embed")
        assert f"Waiting for beacon round {bound['round']}." in text_of(embed.text)
        results = await anon_client.get(f"/draws/{draw['id']}/results")
        assert results.status_code == 200
        assert (
            "The winners have not been drawn yet. Check back after the draw. Waiting for "
            f"beacon round {bound['round']}, due {due.text} ."
        ) in text_of(results.text)

    async def test_the_draw_button_returns_to_the_page_and_the_scheduler_draws_it(
        self,
        app: FastAPI,
        app_client: httpx.AsyncClient,
        anon_client: httpx.AsyncClient,
        github: GitHubStandIn,
    ) -> None:
        _, draw = await closed_draw(app_client, anon_client, github, range(930, 933))
        bound = draw["seal"]["beacon"]
        due_ms = epoch_ms(bound["due_at"])
        browser = FormBrowser(app_client)
        form_csrf = await browser.csrf(f"/draws/{draw['id']}")
        started = time.monotonic()
        response = await browser.post(f"/draws/{draw['id']}/draw", csrf=form_csrf)
        assert time.monotonic() - started < 6
        assert response.status_code == 303
        assert response.headers["location"] == f"/draws/{draw['id']}"
        page = await app_client.get(f"/draws/{draw['id']}")
        assert page.status_code == 200
        due = moment_in(due_ms, "UTC")
        # (text_of puts a space where the <time> element ends.)
        assert (
            f"Waiting for beacon round {bound['round']}, due {due.text} ; the winners are "
            "drawn by themselves when it arrives."
        ) in text_of(page.text)
        again = await app_client.get(f"/draws/{draw['id']}")
        assert "the winners are drawn by themselves" not in text_of(again.text)  # once
        assert (await app_client.get(f"/api/v1/draws/{draw['id']}")).json()["status"] == "closed"

        await asyncio.sleep(max(0.0, (due_ms - time.time() * 1000) / 1000) + 0.5)
        report = await services_of(app).scheduler.run_once()
        assert report.settled == [draw["id"]]
        drawn = (await app_client.get(f"/api/v1/draws/{draw['id']}")).json()
        assert drawn["status"] == "drawn"

    async def test_the_presenters_start_button_returns_to_the_big_screen(
        self,
        app: FastAPI,
        app_client: httpx.AsyncClient,
        anon_client: httpx.AsyncClient,
        github: GitHubStandIn,
    ) -> None:
        _, draw = await closed_draw(app_client, anon_client, github, range(940, 943))
        bound = draw["seal"]["beacon"]
        browser = FormBrowser(app_client)
        present = f"/draws/{draw['id']}/present"
        form_csrf = await browser.csrf(present)
        started = time.monotonic()
        response = await browser.post(f"{present}/start", csrf=form_csrf)
        assert time.monotonic() - started < 6
        assert response.status_code == 303
        assert response.headers["location"] == present
        page = await app_client.get(present)
        due = moment_in(epoch_ms(bound["due_at"]), "UTC")
        assert (
            f"Waiting for beacon round {bound['round']}, due {due.text} ; the winners are "
            "drawn by themselves when it arrives."
        ) in text_of(page.text)
        assert (await app_client.get(f"/api/v1/draws/{draw['id']}")).json()["status"] == "closed"

    async def test_draw_now_on_a_lottery_round_returns_to_the_round_page(
        self, app: FastAPI, app_client: httpx.AsyncClient, redis: Redis
    ) -> None:
        services = services_of(app)
        yesterday = today_in(BERLIN) - timedelta(days=1)
        lottery_id = await stored_lottery(redis, yesterday)
        await services.lotteries.cast(lottery_id, ANN, at_ms=midday(BERLIN, yesterday))
        browser = FormBrowser(app_client)
        await browser.log_in(MANAGER)
        round_page = f"/lotteries/{lottery_id}/rounds/{yesterday.isoformat()}"
        form_csrf = await browser.csrf(round_page)
        started = time.monotonic()
        response = await browser.post(f"{round_page}/draw", csrf=form_csrf)
        assert time.monotonic() - started < 6
        assert response.status_code == 303
        assert response.headers["location"] == round_page
        page = text_of((await app_client.get(round_page)).text)
        assert "the winners are drawn by themselves when it arrives." in page
        assert "Waiting for beacon round" in page
        assert "Not drawn yet" in page

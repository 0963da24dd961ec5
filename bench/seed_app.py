"""The app bench_entries.py compares fairdraw with: the giveaway entry of
redis-prize-draw (Flask + redis-py), the seed implementation of the same job, written
again here with the same store commands and the same answers.

``GET /enter/<github_id>`` makes three round trips to the store, as that app does:

1. ``EXISTS seed:is_open``: 403 if the draw is not open;
2. ``GET seed:profiles:<login>``: the entrant's cached GitHub profile (JSON); the
   benchmark fills the cache, as it does fairdraw's, so a miss answers 404 here where
   that app would ask GitHub;
3. ``SADD seed:entrants <login>``: 400 if the login had already entered;

and answers 200 with the profile. There is no proof, no receipt, no signature, no rate
limit, no idempotency key and no ledger: an entry is a set member, and the winners are
``SPOP`` s. The difference between this and fairdraw's figures is what fairdraw's
architecture costs or saves for an entry that does much more.

Served as that app would be in production: by gunicorn, a threaded worker per core
(``gunicorn 'bench.seed_app:create_app()' --workers 2 --threads N``), with the store URL
in ``FAIRDRAW_BENCH_STORE_URL``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable

from flask import Flask, Response, abort, jsonify
from redis import Redis

from bench.bare_app import STORE_URL_VARIABLE

PREFIX = "seed"
PROFILE_TTL_SECONDS = 3600
_PIPELINE_BATCH = 10_000


def key(*parts: str) -> str:
    return ":".join((PREFIX, *parts))


def github_profile(login: str, number: int) -> dict[str, object]:
    """A profile as GitHub's ``GET /users/{login}`` returns it (the fields that app
    caches and sends back), for synthetic entrant ``number``."""
    api = f"https://api.github.com/users/{login}"
    return {
        "login": login,
        "id": number + 1,
        "node_id": f"MDQ6VXNlcj{number + 1:08d}",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{number + 1}?v=4",
        "gravatar_id": "",
        "url": api,
        "html_url": f"https://github.com/{login}",
        "followers_url": f"{api}/followers",
        "following_url": f"{api}/following{{/other_user}}",
        "gists_url": f"{api}/gists{{/gist_id}}",
        "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{api}/subscriptions",
        "organizations_url": f"{api}/orgs",
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events{{/privacy}}",
        "received_events_url": f"{api}/received_events",
        "type": "User",
        "site_admin": False,
        "name": None,
        "company": None,
        "blog": "",
        "location": None,
        "email": None,
        "hireable": None,
        "bio": None,
        "twitter_username": None,
        "public_repos": 3,
        "public_gists": 0,
        "followers": 1,
        "following": 0,
        "created_at": "2020-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    }


def open_draw(store: Redis, logins: Iterable[tuple[str, int]]) -> None:
    """Open the draw (no deadline) and cache the profiles of ``logins`` (login, number)
    for an hour, as that app caches what GitHub answered."""
    pipe = store.pipeline(transaction=False)
    pipe.delete(key("entrants"))
    pipe.set(key("is_open"), "true")
    for login, number in logins:
        profile = json.dumps(github_profile(login, number))
        pipe.set(key("profiles", login), profile, ex=PROFILE_TTL_SECONDS)
        if len(pipe) >= _PIPELINE_BATCH:
            pipe.execute()
    pipe.execute()


def create_app() -> Flask:
    """The app; the store URL comes from the environment (one client per worker)."""
    store = Redis.from_url(os.environ[STORE_URL_VARIABLE], decode_responses=True)
    app = Flask(__name__)

    @app.get("/ready")
    def ready() -> Response:
        return jsonify(ready=True)

    @app.get("/enter/<github_id>")
    def enter(github_id: str) -> Response:
        if store.exists(key("is_open")) == 0:
            abort(403)
        login = github_id.lower()
        cached = store.get(key("profiles", login))
        if not cached:
            abort(404)
        if store.sadd(key("entrants"), login) == 0:
            abort(400)
        return jsonify(json.loads(str(cached)))

    return app

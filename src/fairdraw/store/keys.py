"""Every key name fairdraw uses. Nothing else in fairdraw spells a key.

All keys start with the configured prefix ``P`` (``FAIRDRAW_KEY_PREFIX``, default
``fairdraw:``). The keys of one draw share the hash tag ``{d:<id>}`` so that every
multi-key change of a draw is one Lua script, legal on Redis Cluster.

Key schema (key → type → TTL → contents)::

    P{d:ID}:meta        hash    none  the draw: title, description, kind, prizes (JSON),
                                      status, times (ms), time_zone (IANA, absent: UTC),
                                      salt, seed, commitment, seal
                                      and result (JSON); a raffle also ticket_count,
                                      claimants, per_claimant, early_close and its
                                      permutation key (perm_key, secret)
    P{d:ID}:ledger      list    none  entry i at index i, tab-separated: "+" ms since
                                      the opening, identity, label (older elements: ref,
                                      entered ms, identity, label; see store/ledger.py);
                                      a raffle's claim i: verification code hash,
                                      claimed ms, claimant
    P{d:ID}:entrants    hash    none  identity → entry index (one entry per identity)
    P{d:ID}:chunks      hash    none  chunk number k → Merkle root (hex) of the complete
                                      ledger chunk k (entries k·65536 .. k·65536+65535),
                                      hashed while the draw is open so the seal is quick
    P{d:ID}:claimants   hash    none  raffle: claimant → tickets claimed (claimant is
                                      "u:" + username, or a keyed hash of the address)
    P{d:ID}:numbers     hash    none  raffle: chunk number k → the ticket numbers of
                                      claims k·65536 .. (comma-separated), kept with the
                                      chunk's root, so proofs need not recompute them
    P{d:ID}:events      stream  none  the draw's live events (entry, claim, ballot, status,
                                      sealed, drawn, reveal), XADD … MAXLEN ~ EVENTS_MAXLEN in
                                      the script that changes the draw; expires 7 days after
                                      the draw is drawn or cancelled. A buffer, not the record
    P{d:ID}:minutes     hash    none  entries per minute: epoch minute → count, and
                                      "h" + epoch hour → count (the dashboard's chart)
    P{d:ID}:names:HEX   list    none  search bucket: entrant names whose first two
                                      characters (UTF-8, hex) are HEX, each as
                                      "name\tindex" (index in base 36), in entry order
    P{d:ID}:top         zset    none  lottery round: participant name → ballots
    P{d:ID}:import:T    list    1 h   an imported list being written (T = 32 hex, one per
                                      upload): its ledger elements, moved to :ledger by the
                                      script that seals the import; :import:T:names:HEX its
                                      search buckets, moved to :names:HEX likewise
    P{d:ID}:tries:A     hash    2 w   giveaway entry attempts from client address bucket A
                                      (the rate limit counted by the enter script): w the
                                      window number, c its count, p the window before's
    P{d:ID}:subs        list    none  a drawn draw's substitutions (forfeit and promote),
                                      in order, each as canonical JSON
    P{d:ID}:idem:NAME   string  24 h  the kept result of one keyed entry, claim or ballot,
                                      written by the same script: "fingerprint \t index"
                                      (an entry), "… \t index \t sealed code" (a claim;
                                      the code AES-GCM-sealed under the client's key),
                                      "… \t index \t ballots" (a ballot); NAME = keyed
                                      hash of caller and Idempotency-Key
    P{l:LID}:top        zset    none  lottery: participant name → ballots in drawn rounds
    Pactivity           zset    none  draw id → last minute (epoch) it had an entry, for
                                      the instance's most active draws (written at most
                                      once a minute per draw and process)
    Pschedule:deadlines zset    none  draw id → deadline (ms) of an open draw, closed (and,
                                      if asked, drawn) by the scheduler when it passes
    Pdraws              zset    none  draw id → created ms (global index, written after
                                      the draw itself; readers skip ids whose meta is gone);
                                      lottery rounds are not listed here
    P{l:LID}:lottery    hash    none  a daily lottery: name, description, prize,
                                      winners_per_day, timezone, start, end, created_ms,
                                      created_by, last_day (the last round drawn, ISO date)
    Plotteries          zset    none  lottery id → created ms (global index)
    Pschedule:due       zset    none  lottery id → when its next round is due (ms)
    Pschedule:lease     string  lease the scheduler leader's instance id (SET NX PX)
    Pschedule:status    hash    none  the scheduler's last run: instance, run_ms, lag_ms,
                                      drawn (rounds drawn by that run), next_due_ms,
                                      settled and settled_ms (the draws whose deadline the
                                      last settling pass closed)
    Puser:NAME          hash    none  account: username, display_name, role, created_ms,
                                      disabled ("0"/"1"), password_hash, session_epoch,
                                      email and email_confirmed ("0"/"1") if it has one,
                                      lang (the language of its e-mail: the locale of
                                      the request that set or confirmed the address;
                                      none: English)
    Pusers              zset    none  normalised username → created ms
    Psession:HASH       hash    idle  browser session (HASH = keyed hash of the cookie token):
                                      username, csrf secret, created ms, epoch; TTL = idle timeout
    Pgh:login:LOGIN     string  1 h   cached GitHub profile JSON, LOGIN case-folded
    Pgh:signin:HASH     hash    10 m  a GitHub sign-in under way (HASH = sha256 of its
                                      OAuth state): draw, browser (sha256 of the browser's
                                      sign-in cookie), used ("1" once its callback came),
                                      index (the entry it made); no OAuth code or token
    P{f:FID}:family     hash    30 d  API token family: username, status (active|revoked),
                                      refresh (current refresh hash), epoch (the user's
                                      session epoch at login); TTL max(access, refresh),
                                      renewed on each rotation; FID is part of every token
    P{f:FID}:access:H   hash    15 m  access token (H = keyed hash of the token): username
    P{f:FID}:refresh:H  hash    30 d  refresh token: username, used (0|1)
    Pidem:NAME          hash    24 h  an API request's Idempotency-Key record: fp, state
                                      (pending|done), owner while pending (TTL = the
                                      in-flight lease), response (sealed: status, headers,
                                      body) once done
    Pmine:NAME          zset    none  "My entries": "e|t|b:draw id:index" → ms, a user's
                                      entries, tickets and ballots (newest kept), written
                                      after the entry, claim or ballot
    Pratelimit:…        (owned by the rate limiter; every name starts with this prefix)
    P{wh}:endpoint:EID  hash    none  a webhook endpoint: url, events, draw ("" for the
                                      instance), created_ms, created_by, secret (sealed,
                                      see domain/webhooks.py) and its last delivery:
                                      last_message, last_type, last_status, last_attempts,
                                      last_code, last_error, last_ms
    P{wh}:endpoints     zset    none  endpoint id → created ms
    P{wh}:scope:S       set     none  endpoint ids of a draw (S = "d:" + draw id) or of
                                      the instance (S = "instance")
    P{wh}:queue:EID     list    none  an endpoint's undelivered message ids, oldest first
                                      (delivered in this order, one at a time)
    P{wh}:message:MID   hash    30 d  a message: endpoint, type, body, status
                                      (pending|delivered|failed), attempts, created_ms,
                                      last_code, last_error, last_ms; its existence makes
                                      announcing the same event again a no-op
    P{wh}:due           zset    none  endpoint id → when its first queued message is due
                                      (ms); a delivering worker moves it ahead meanwhile
    P{mail}:message:MID hash    30 d  an e-mail notice: kind, draw, username, to, subject,
                                      text (erased once sent or given up), status
                                      (pending|sent|failed), attempts, created_ms,
                                      last_error, last_ms; its existence makes announcing
                                      the same draw again a no-op
    P{mail}:due         zset    none  message id → when it is next tried (ms); a sending
                                      worker moves it ahead meanwhile
    Pmail:confirm:HASH  string  24 h  an e-mail confirmation token (HASH = keyed hash of
                                      the token): "username \t address"; read and deleted
                                      in one step, so it works once
    P{log}:head         hash    none  the public draw log (RFC 9162 Merkle tree): size
                                      (leaves) and frontier (hex hashes of the complete
                                      subtrees the tree is made of, largest first)
    P{log}:entries      list    none  leaf i at index i: its entry as canonical JSON
    P{log}:ids          hash    none  leaf id "type:draw id" → leaf index (one leaf each)
    P{log}:level:H      string  none  hex hashes of the complete subtrees of 2^H leaves,
                                      64 characters each, by position (H = 0: leaf hashes)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fairdraw.domain.errors import DrawNotFound, LotteryNotFound
from fairdraw.domain.mail import MESSAGE_ID_PATTERN as MAIL_ID_PATTERN
from fairdraw.domain.mail import TOKEN_HASH_PATTERN
from fairdraw.domain.webhooks import ENDPOINT_ID_PATTERN, MESSAGE_ID_PATTERN

DEFAULT_PREFIX = "fairdraw:"

# Draw ids are generated by fairdraw; this is also what an URL path segment must match:
# 12 random characters, or 16 derived ones for the round of a daily lottery.
DRAW_ID_PATTERN = r"[a-z2-7]{12}(?:[a-z2-7]{4})?"
_DRAW_ID = re.compile(DRAW_ID_PATTERN)
# Lottery ids: 12 random characters like draw ids, under their own hash tag.
LOTTERY_ID_PATTERN = r"[a-z2-7]{12}"
_LOTTERY_ID = re.compile(LOTTERY_ID_PATTERN)
# Token family ids: 16 random bytes, base32 lower case without padding.
FAMILY_ID_PATTERN = r"[a-z2-7]{26}"
_FAMILY_ID = re.compile(FAMILY_ID_PATTERN)


# The draw log's tree has at most 2**63 leaves, so levels 0 .. 63.
LOG_LEVELS = 64

_RECORD_NAME = re.compile(r"[0-9a-f]{32}")


def _record_name(name: str) -> str:
    # Record names are keyed hashes computed by fairdraw; anything else is a bug.
    if not _RECORD_NAME.fullmatch(name):
        raise ValueError("not an idempotency record name")
    return name


# How many characters of a name pick its search bucket: a search needs at least these.
NAME_BUCKET_CHARS = 2


def name_bucket(name: str) -> str:
    """The search bucket of ``name``: its first two case-folded characters, hex UTF-8."""
    return name.casefold()[:NAME_BUCKET_CHARS].encode().hex()


@dataclass(frozen=True)
class Keys:
    """Key names under one prefix."""

    prefix: str = DEFAULT_PREFIX

    @staticmethod
    def _tag(draw_id: str) -> str:
        # Ids come from URLs: one that fairdraw cannot have issued names no draw, and
        # must never reach a key name (braces would move it to another hash slot).
        if not _DRAW_ID.fullmatch(draw_id):
            raise DrawNotFound()
        return "{d:" + draw_id + "}"

    # -- one draw (hash tag {d:ID}) ------------------------------------------------
    def draw_meta(self, draw_id: str) -> str:
        return f"{self.prefix}{self._tag(draw_id)}:meta"

    def ledger(self, draw_id: str) -> str:
        return f"{self.prefix}{self._tag(draw_id)}:ledger"

    def entrants(self, draw_id: str) -> str:
        return f"{self.prefix}{self._tag(draw_id)}:entrants"

    def chunk_roots(self, draw_id: str) -> str:
        return f"{self.prefix}{self._tag(draw_id)}:chunks"

    def claimants(self, draw_id: str) -> str:
        return f"{self.prefix}{self._tag(draw_id)}:claimants"

    def chunk_numbers(self, draw_id: str) -> str:
        return f"{self.prefix}{self._tag(draw_id)}:numbers"

    def events(self, draw_id: str) -> str:
        return f"{self.prefix}{self._tag(draw_id)}:events"

    def minutes(self, draw_id: str) -> str:
        return f"{self.prefix}{self._tag(draw_id)}:minutes"

    def names(self, draw_id: str, name: str) -> str:
        """The search bucket of entrant names starting with ``name``'s first two
        characters (case-folded): a prefix search reads one bucket."""
        return f"{self.prefix}{self._tag(draw_id)}:names:{name_bucket(name)}"

    def substitutions(self, draw_id: str) -> str:
        return f"{self.prefix}{self._tag(draw_id)}:subs"

    def import_staging(self, draw_id: str, token: str) -> str:
        """An imported list's ledger while it is written, before its import is sealed."""
        if not re.fullmatch(r"[0-9a-f]{32}", token):
            raise ValueError("not an import token")
        return f"{self.prefix}{self._tag(draw_id)}:import:{token}"

    def import_staging_names(self, draw_id: str, token: str, name: str) -> str:
        """The search bucket of ``name`` in an imported list being written."""
        return f"{self.import_staging(draw_id, token)}:names:{name_bucket(name)}"

    def round_top(self, draw_id: str) -> str:
        return f"{self.prefix}{self._tag(draw_id)}:top"

    def entry_attempts(self, draw_id: str, address: str) -> str:
        """The entry attempts on a giveaway, or the ballots on a lottery round, from one
        client address bucket (``address`` as ``ratelimit.address_identifier`` spells
        it), counted by the enter and cast_ballot scripts."""
        return f"{self.prefix}{self._tag(draw_id)}:tries:{address}"

    def draw_idempotency(self, draw_id: str, name: str) -> str:
        """The kept result of a keyed entry, claim or ballot in this draw (written by
        the same script as the action, so it shares the draw's hash tag)."""
        return f"{self.prefix}{self._tag(draw_id)}:idem:{_record_name(name)}"

    def draw_keys(self, draw_id: str) -> list[str]:
        """Every key of one draw, in the KEYS order the draw scripts expect."""
        return [self.draw_meta(draw_id), self.ledger(draw_id), self.entrants(draw_id)]

    # -- global indexes --------------------------------------------------------------
    def draws_index(self) -> str:
        return f"{self.prefix}draws"

    # -- daily lotteries (hash tag {l:LID}; each round is a draw of its own) ---------
    def lottery(self, lottery_id: str) -> str:
        if not _LOTTERY_ID.fullmatch(lottery_id):
            raise LotteryNotFound()
        return f"{self.prefix}{{l:{lottery_id}}}:lottery"

    def lottery_top(self, lottery_id: str) -> str:
        if not _LOTTERY_ID.fullmatch(lottery_id):
            raise LotteryNotFound()
        return f"{self.prefix}{{l:{lottery_id}}}:top"

    def lotteries_index(self) -> str:
        return f"{self.prefix}lotteries"

    def schedule_due(self) -> str:
        return f"{self.prefix}schedule:due"

    def schedule_lease(self) -> str:
        return f"{self.prefix}schedule:lease"

    def schedule_deadlines(self) -> str:
        return f"{self.prefix}schedule:deadlines"

    def activity(self) -> str:
        return f"{self.prefix}activity"

    def schedule_status(self) -> str:
        return f"{self.prefix}schedule:status"

    # -- accounts --------------------------------------------------------------------
    def user(self, username: str) -> str:
        return f"{self.prefix}user:{username}"

    def users_index(self) -> str:
        return f"{self.prefix}users"

    def session(self, token_hash: str) -> str:
        return f"{self.prefix}session:{token_hash}"

    def my_entries(self, username: str) -> str:
        """A user's entries, tickets and ballots, newest last (a sorted set by time)."""
        return f"{self.prefix}mine:{username}"

    # -- idempotency ---------------------------------------------------------------------
    def idempotency(self, name: str) -> str:
        """The Idempotency-Key record of one API request (its own slot)."""
        return f"{self.prefix}idem:{_record_name(name)}"

    # -- caches ----------------------------------------------------------------------
    # -- API tokens (hash tag {f:FID}: one token family) --------------------------------
    @staticmethod
    def _family_tag(family_id: str) -> str:
        if not _FAMILY_ID.fullmatch(family_id):
            raise ValueError("not a token family id")
        return "{f:" + family_id + "}"

    def token_family(self, family_id: str) -> str:
        return f"{self.prefix}{self._family_tag(family_id)}:family"

    def access_token(self, family_id: str, token_hash: str) -> str:
        return f"{self.prefix}{self._family_tag(family_id)}:access:{token_hash}"

    def refresh_token(self, family_id: str, token_hash: str) -> str:
        return f"{self.prefix}{self._family_tag(family_id)}:refresh:{token_hash}"

    def github_profile(self, login: str) -> str:
        return f"{self.prefix}gh:login:{login.casefold()}"

    def github_sign_in(self, state_hash: str) -> str:
        """A GitHub sign-in under way, by the sha256 (hex) of its OAuth state."""
        if not re.fullmatch(r"[0-9a-f]{64}", state_hash):
            raise ValueError("not a sign-in state hash")
        return f"{self.prefix}gh:signin:{state_hash}"

    def rate_limit_prefix(self) -> str:
        return f"{self.prefix}ratelimit"

    # -- webhooks (hash tag {wh}: every endpoint and message is one slot) -----------------
    @staticmethod
    def _endpoint_id(endpoint_id: str) -> str:
        if not re.fullmatch(ENDPOINT_ID_PATTERN, endpoint_id):
            raise ValueError("not a webhook endpoint id")
        return endpoint_id

    def webhook_endpoint(self, endpoint_id: str) -> str:
        return f"{self.prefix}{{wh}}:endpoint:{self._endpoint_id(endpoint_id)}"

    def webhook_endpoints(self) -> str:
        return f"{self.prefix}{{wh}}:endpoints"

    def webhook_scope(self, draw_id: str | None) -> str:
        """The endpoints of one draw, or of the whole instance (``draw_id`` None)."""
        if draw_id is None:
            return f"{self.prefix}{{wh}}:scope:instance"
        if not _DRAW_ID.fullmatch(draw_id):
            raise DrawNotFound()
        return f"{self.prefix}{{wh}}:scope:d:{draw_id}"

    def webhook_queue(self, endpoint_id: str) -> str:
        return f"{self.prefix}{{wh}}:queue:{self._endpoint_id(endpoint_id)}"

    def webhook_message(self, message_id: str) -> str:
        if not re.fullmatch(MESSAGE_ID_PATTERN, message_id):
            raise ValueError("not a webhook message id")
        return f"{self.prefix}{{wh}}:message:{message_id}"

    def webhook_due(self) -> str:
        return f"{self.prefix}{{wh}}:due"

    # -- e-mail (hash tag {mail}: the whole queue is one slot) ---------------------------
    def mail_message(self, message_id: str) -> str:
        if not re.fullmatch(MAIL_ID_PATTERN, message_id):
            raise ValueError("not a mail message id")
        return f"{self.prefix}{{mail}}:message:{message_id}"

    def mail_due(self) -> str:
        return f"{self.prefix}{{mail}}:due"

    def mail_confirmation(self, token_hash: str) -> str:
        if not re.fullmatch(TOKEN_HASH_PATTERN, token_hash):
            raise ValueError("not a confirmation token hash")
        return f"{self.prefix}mail:confirm:{token_hash}"

    # -- the draw log (hash tag {log}: the whole log is one slot) ------------------------
    def log_head(self) -> str:
        return f"{self.prefix}{{log}}:head"

    def log_entries(self) -> str:
        return f"{self.prefix}{{log}}:entries"

    def log_ids(self) -> str:
        return f"{self.prefix}{{log}}:ids"

    def log_level(self, level: int) -> str:
        """The complete subtrees of ``2**level`` leaves, by position."""
        if not 0 <= level < LOG_LEVELS:
            raise ValueError(f"no draw log level {level}")
        return f"{self.prefix}{{log}}:level:{level}"

    def patterns(self) -> list[re.Pattern[str]]:
        """Regular expressions that together match every key fairdraw may create."""
        p = re.escape(self.prefix)
        tag = r"\{d:" + DRAW_ID_PATTERN + r"\}"
        return [
            re.compile(
                rf"{p}{tag}:(meta|ledger|entrants|chunks|claimants|numbers|events|minutes|top|subs)"
            ),
            re.compile(rf"{p}{tag}:names:([0-9a-f]{{2}}){{1,8}}"),
            re.compile(rf"{p}{tag}:idem:[0-9a-f]{{32}}"),
            re.compile(rf"{p}{tag}:tries:[0-9A-Za-z_.:~-]{{1,64}}"),
            re.compile(rf"{p}{tag}:import:[0-9a-f]{{32}}(:names:([0-9a-f]{{2}}){{1,8}})?"),
            re.compile(rf"{p}idem:[0-9a-f]{{32}}"),
            re.compile(rf"{p}mine:[^:]+"),
            re.compile(rf"{p}draws"),
            re.compile(rf"{p}activity"),
            re.compile(rf"{p}\{{l:{LOTTERY_ID_PATTERN}\}}:(lottery|top)"),
            re.compile(rf"{p}lotteries"),
            re.compile(rf"{p}schedule:(due|lease|status|deadlines)"),
            re.compile(rf"{p}user:[^:]+"),
            re.compile(rf"{p}users"),
            re.compile(rf"{p}session:[0-9a-f]{{64}}"),
            re.compile(rf"{p}gh:login:[0-9a-z-]{{1,39}}"),
            re.compile(rf"{p}gh:signin:[0-9a-f]{{64}}"),
            re.compile(rf"{p}ratelimit[:/].+"),
            re.compile(rf"{p}\{{f:{FAMILY_ID_PATTERN}\}}:family"),
            re.compile(rf"{p}\{{f:{FAMILY_ID_PATTERN}\}}:(access|refresh):[0-9a-f]{{64}}"),
            re.compile(rf"{p}\{{wh\}}:(endpoints|due|scope:instance)"),
            re.compile(rf"{p}\{{wh\}}:scope:d:{DRAW_ID_PATTERN}"),
            re.compile(rf"{p}\{{wh\}}:(endpoint|queue):{ENDPOINT_ID_PATTERN}"),
            re.compile(rf"{p}\{{wh\}}:message:{MESSAGE_ID_PATTERN}"),
            re.compile(rf"{p}\{{mail\}}:message:{MAIL_ID_PATTERN}"),
            re.compile(rf"{p}\{{mail\}}:due"),
            re.compile(rf"{p}mail:confirm:{TOKEN_HASH_PATTERN}"),
            re.compile(rf"{p}\{{log\}}:(head|entries|ids)"),
            re.compile(rf"{p}\{{log\}}:level:(0|[1-9][0-9]?)"),
        ]

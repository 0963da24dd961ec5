"""What makes a ``fairdraw/2`` draw checkable by anyone: its leaves in the public draw
log, the beacon round its randomness waits for, and its proof bundle.

Every step is safe to repeat. A leaf is appended once per (draw, kind of leaf), so a
step that died after the draw's own write is completed by the next attempt; the bundle is
a pure function of what is stored (seed, seal, beacon round), so two processes drawing at
once build the same one and the store keeps the first.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fairdraw.config import Settings, signing_key_path
from fairdraw.domain import fairness, proof
from fairdraw.domain.beacon import BeaconRound
from fairdraw.domain.draws import Draw, Seal
from fairdraw.domain.errors import InvalidTransition
from fairdraw.domain.fairness import Outcome
from fairdraw.domain.moments import iso, now_ms
from fairdraw.domain.signing import SigningKey
from fairdraw.keyfiles import load_or_create_signing_key
from fairdraw.services.beacon import BeaconClient
from fairdraw.services.draw_log import DrawLogService
from fairdraw.store.draw_log import DrawLogStore
from fairdraw.store.draws import BeaconBinding

log = logging.getLogger("fairdraw.proofs")

# Told what a draw is waiting for ("waiting for beacon round R …"), for pages and logs.
OnWait = Callable[[str], Awaitable[None] | None]


def draw_proofs(settings: Settings, log_store: DrawLogStore) -> DrawProofs:
    """The draw log (in ``log_store``), signing key and beacon of this instance, from its
    settings (the signing key is created on first start). Close it with
    :meth:`DrawProofs.aclose`."""
    signing = load_or_create_signing_key(signing_key_path(settings))
    draw_log = DrawLogService(log_store, signing)
    beacon = BeaconClient.from_settings(settings)
    return DrawProofs(draw_log, signing, beacon, settings.beacon_margin_seconds)


class DrawProofs:
    """The draw log, the beacon and the signing key, as the draw lifecycle uses them."""

    def __init__(
        self,
        draw_log: DrawLogService,
        signing: SigningKey,
        beacon: BeaconClient | None,
        margin_seconds: int,
    ) -> None:
        self._log = draw_log
        self._signing = signing
        self._beacon = beacon
        self._margin = margin_seconds

    @property
    def beacon_chain(self) -> str | None:
        """The chain hash new draws bind, or None: they trust their operator."""
        return self._beacon.chain.chain_hash if self._beacon is not None else None

    @property
    def signing(self) -> SigningKey:
        return self._signing

    @property
    def draw_log(self) -> DrawLogService:
        return self._log

    async def aclose(self) -> None:
        """Close the beacon's HTTP client."""
        if self._beacon is not None:
            await self._beacon.aclose()

    def binding(self, draw: Draw) -> BeaconBinding | None:
        """How the seal of ``draw`` fixes its beacon round (None: no beacon)."""
        if not draw.binds_beacon:
            return None
        client = self._client_for(draw)
        return BeaconBinding(client.chain.genesis_time, client.chain.period, self._margin)

    def _client_for(self, draw: Draw) -> BeaconClient:
        chain = draw.seal.beacon_chain if draw.seal is not None else None
        if self._beacon is None:
            raise InvalidTransition(
                "This draw binds a beacon round, but this server has no beacon configured "
                "(FAIRDRAW_BEACON=none); configure it to draw"
            )
        if chain is not None and chain != self._beacon.chain.chain_hash:
            raise InvalidTransition(
                f"This draw binds beacon chain {chain}, but this server is configured for "
                f"{self._beacon.chain.chain_hash}"
            )
        return self._beacon

    # -- log leaves ----------------------------------------------------------------------
    async def log_commit(self, draw: Draw) -> None:
        if draw.algorithm == fairness.ALGORITHM or draw.commitment is None:
            return
        await self._log.append(
            {
                "type": "commit",
                "draw_id": draw.id,
                "kind": draw.kind.value,
                "time": iso(draw.opened_ms or draw.created_ms),
                "commitment": draw.commitment,
            }
        )

    async def log_seal(self, draw: Draw, seal: Seal) -> None:
        if draw.algorithm == fairness.ALGORITHM:
            return
        beacon = None
        if seal.beacon_round is not None:
            beacon = {
                "chain_hash": seal.beacon_chain,
                "round": seal.beacon_round,
            }
        await self._log.append(
            {
                "type": "seal",
                "draw_id": draw.id,
                "time": iso(seal.sealed_ms),
                "root": seal.root,
                "entry_count": seal.entry_count,
                "sealed_at": iso(seal.sealed_ms),
                "beacon": beacon,
            }
        )

    async def log_cancel(self, draw: Draw, seed: bytes | None, cancelled_ms: int) -> None:
        if draw.algorithm == fairness.ALGORITHM:
            return
        await self._log.append(
            {
                "type": "cancel",
                "draw_id": draw.id,
                "time": iso(cancelled_ms),
                "commitment": draw.commitment,
                "seed": seed.hex() if seed is not None else None,
            }
        )

    async def log_result(self, draw: Draw, bundle: Mapping[str, Any]) -> None:
        """Log a recorded fairdraw/2 result whose ``draw`` leaf may be missing (its
        process died between the log and the record): harmless when it is there."""
        if draw.algorithm == fairness.ALGORITHM or "log" not in bundle:
            return
        await self._log.append(dict(bundle["log"]["entry"]))

    # -- the beacon ----------------------------------------------------------------------
    def round_due_ms(self, draw: Draw, seal: Seal) -> int:
        """When the draw's bound round is published, epoch ms."""
        if seal.beacon_round is None:
            raise InvalidTransition("This draw's seal bound no beacon round")
        return self._client_for(draw).chain.round_time(seal.beacon_round) * 1000

    async def beacon_round(self, draw: Draw, seal: Seal, on_wait: OnWait | None) -> BeaconRound:
        """The verified beacon round the draw's seal bound, waiting for it if needed."""
        if seal.beacon_round is None:
            raise InvalidTransition("This draw's seal bound no beacon round")
        client = self._client_for(draw)
        return await client.wait_for_round(seal.beacon_round, on_wait)

    # -- the bundle ----------------------------------------------------------------------
    async def bundle(
        self,
        draw: Draw,
        seal: Seal,
        seed: bytes,
        beacon: BeaconRound | None,
        outcome: Outcome,
        picks: Mapping[int, tuple[str, Mapping[str, str] | None]],
        rules: Mapping[str, Any],
    ) -> dict[str, Any]:
        """The complete ``fairdraw/2`` bundle: its core, logged as the draw's ``draw``
        leaf, plus that leaf's inclusion proof and a signed tree head."""
        if draw.commitment is None:
            raise InvalidTransition("This draw was never opened")
        core = proof.build_bundle_v2(
            draw=rules,
            root=bytes.fromhex(seal.root),
            entry_count=seal.entry_count,
            sealed_at=iso(seal.sealed_ms),
            commitment=draw.commitment,
            seed=seed,
            beacon=beacon.to_json() if beacon is not None else None,
            outcome=outcome,
            picks=picks,
            signer={
                "algorithm": "ed25519",
                "public_key": self._signing.public_key.hex(),
                "key_id": self._signing.key_id,
            },
        )
        bundle_hash = proof.bundle_hash(core)
        await self._log.append(
            {
                "type": "draw",
                "draw_id": draw.id,
                "time": iso(now_ms()),
                "bundle_hash": bundle_hash,
            }
        )
        placed = await self._log.proof_of(draw.id, "draw")
        if placed is None or placed["entry"].get("bundle_hash") != bundle_hash:
            raise InvalidTransition("The draw log holds another result for this draw")
        return {**core, "log": placed}


def stream_key(draw: Draw, seal: Seal, seed: bytes, beacon: BeaconRound | None) -> bytes:
    """The draw's stream key under its algorithm."""
    root = bytes.fromhex(seal.root)
    if draw.algorithm == fairness.ALGORITHM:
        return fairness.stream_key(root, seed)
    return fairness.stream_key_v2(
        root, seal.entry_count, seed, beacon.randomness if beacon is not None else None
    )

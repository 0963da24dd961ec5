"""Answers from servers somebody else runs are read with a bound: a server that answers
without end cannot exhaust the reader's memory."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from fairdraw.domain.receipts import receipt_statement
from fairdraw.domain.signing import SigningKey
from fairdraw.services.outbound import AnswerTooLarge, get_bounded
from fairdraw.services.receipts import MAX_ANSWER_BYTES, InstanceUnreachable, check_with_instance

CHUNK = b"x" * 65536


class Endless(BaseHTTPRequestHandler):
    """/declared says how long its body is; /chunked does not; both send 4 MiB;
    /small answers a short JSON body."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path.startswith("/small"):
            self._answer(b'{"ok": true}')
            return
        self.send_response(200)
        self.send_header("content-type", "application/json")
        if self.path.startswith("/declared"):
            self.send_header("content-length", str(64 * len(CHUNK)))
        else:
            self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        try:
            for _ in range(64):
                if self.path.startswith("/declared"):
                    self.wfile.write(CHUNK)
                else:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK))
            if not self.path.startswith("/declared"):
                self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _answer(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def endless() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Endless)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_short_answer_is_read_whole(endless: str) -> None:
    with httpx.Client(timeout=5) as client:
        answer = get_bounded(client, endless + "/small", 100, params={"n": 1})
    assert (answer.status_code, answer.json()) == (200, {"ok": True})
    assert answer.url == endless + "/small?n=1"


@pytest.mark.parametrize("path", ["/declared", "/chunked"])
def test_an_answer_past_the_bound_is_refused(endless: str, path: str) -> None:
    with httpx.Client(timeout=5) as client, pytest.raises(AnswerTooLarge, match="1,048,576"):
        get_bounded(client, endless + path, 1024 * 1024)


def test_the_receipt_checker_gives_up_on_an_endless_instance(endless: str) -> None:
    assert 64 * len(CHUNK) > MAX_ANSWER_BYTES
    key = SigningKey.generate()
    statement = receipt_statement(
        "abcdefghijkl", 0, "0" * 64, "2026-12-07T00:00:00.000Z", key.key_id
    )
    receipt = {"signed": key.sign_statement(statement)}
    # Its signing key is asked for first: that answer never ends.
    with (
        httpx.Client(timeout=5) as client,
        pytest.raises(InstanceUnreachable, match="more than 1,048,576 bytes"),
    ):
        check_with_instance(client, endless + "/chunked", receipt, None)

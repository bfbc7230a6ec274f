"""transport.py's framing in-process, no subprocess: the message reader (_header_line, _skip,
_read_body) fed through an asyncio.StreamReader bounded as the server bounds its stdin
(MAX_HEADER_LINE), the body's parse (_parse) and the id it recovers from a broken body (_id_in),
and the refusals of a message no handler may take (_refused, _unfit).

What a client relies on: a good frame is read whole, whatever its headers' case and order and
however its bytes arrive; a bad frame is answered (the JSON-RPC code, and a message saying what
was wrong and what is expected) and skipped, and the frames after it are still read; EOF anywhere
ends the reading quietly, with nothing half-read handed on."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from pygls.exceptions import JsonRpcInvalidParams
from tuna_lsp import transport
from tuna_lsp.setup import create_server
from tuna_lsp.transport import (
    MAX_BODY,
    MAX_HEADER_LINE,
    _header_line,
    _id_in,
    _parse,
    _read_body,
    _refused,
    _skip,
    _unfit,
)

SKIPPED = b""  # what _read_body gives for a frame it dropped (and answered, when it could)


def stream(*chunks: bytes, eof: bool = True) -> asyncio.StreamReader:
    """A reader as _serve_stdio makes the server's: its limit is the header line bound."""
    reader = asyncio.StreamReader(limit=MAX_HEADER_LINE)
    for chunk in chunks:
        reader.feed_data(chunk)
    if eof:
        reader.feed_eof()
    return reader


def frame(body: bytes, *headers: bytes) -> bytes:
    """A frame: its headers (a right Content-Length unless given), a blank line, its body."""
    lines = headers or (b"Content-Length: %d" % len(body),)
    return b"".join(line + b"\r\n" for line in lines) + b"\r\n" + body


async def read_all(reader: Any) -> tuple[list[bytes], list[dict[str, Any]]]:
    """What _read_body gives until EOF (None), and the replies it sent meanwhile."""
    bodies: list[bytes] = []
    replies: list[dict[str, Any]] = []
    while (body := await _read_body(reader, replies.append)) is not None:
        bodies.append(body)
        assert len(bodies) < 50, "the reader never reached EOF"
    return bodies, replies


def error(msg_id: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}}


async def trickle(reader: asyncio.StreamReader, data: bytes, size: int) -> None:
    """Feed `data` `size` bytes at a time, letting the reader run between pieces, then EOF."""
    for at in range(0, len(data), size):
        reader.feed_data(data[at : at + size])
        await asyncio.sleep(0)
    reader.feed_eof()


def padded(total: int) -> bytes:
    """A header line of `total` bytes, its CRLF included (frame() adds the CRLF)."""
    return b"X-Pad: " + b"a" * (total - len(b"X-Pad: ") - 2)


# ---- _header_line ------------------------------------------------------------------------------


async def test_header_line_is_one_line_with_its_end_then_nothing_at_eof() -> None:
    reader = stream(b"Content-Length: 2\r\nX-Other: y\n")
    assert await _header_line(reader) == b"Content-Length: 2\r\n"
    assert await _header_line(reader) == b"X-Other: y\n"
    assert await _header_line(reader) == b""


async def test_header_line_cut_by_eof_is_given_as_it_came() -> None:
    reader = stream(b"Content-Len")
    assert await _header_line(reader) == b"Content-Len"
    assert await _header_line(reader) == b""


async def test_header_line_of_the_bound_is_read() -> None:
    line = padded(MAX_HEADER_LINE) + b"\r\n"
    assert len(line) == MAX_HEADER_LINE
    reader = stream(line, b"Content-Length: 2\r\n")
    assert await _header_line(reader) == line
    assert await _header_line(reader) == b"Content-Length: 2\r\n"


@pytest.mark.parametrize("piece", [None, 1000], ids=["at-once", "in-pieces"])
async def test_header_line_over_the_bound_is_dropped_whole_then_refused(piece: int | None) -> None:
    # at once: its end is in the buffer past the bound; in pieces: the bound passes before its end
    data = padded(3 * MAX_HEADER_LINE) + b"\r\nContent-Length: 2\r\n"
    reader = stream(eof=False)
    feeding = asyncio.create_task(trickle(reader, data, piece or len(data)))
    with pytest.raises(
        transport._BadFrame, match=f"^a header line is longer than {MAX_HEADER_LINE} bytes$"
    ):
        await _header_line(reader)
    # nothing of the long line is left: the next line is the next header
    assert await _header_line(reader) == b"Content-Length: 2\r\n"
    await feeding


@pytest.mark.parametrize("piece", [None, 1000], ids=["at-once", "in-pieces"])
async def test_header_line_over_the_bound_cut_by_eof_is_nothing(piece: int | None) -> None:
    # in pieces, what is left after the last dropped part is no line either
    data = b"X-Pad: " + b"a" * (2 * MAX_HEADER_LINE)
    reader = stream(eof=False)
    feeding = asyncio.create_task(trickle(reader, data, piece or len(data)))
    assert await _header_line(reader) == b""
    await feeding


# ---- _skip -------------------------------------------------------------------------------------


@pytest.mark.parametrize("length", [0, 1, 100, 70_000])
async def test_skip_drops_exactly_length_bytes(length: int) -> None:
    reader = stream(b"a" * length, b"rest")
    await _skip(reader, length)
    assert await reader.read() == b"rest"


class Source:
    """A reader of `size` bytes that records what it is asked for, and fails a read past EOF."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.asked: list[int] = []
        self.ended = False

    async def read(self, n: int) -> bytes:
        assert not self.ended, "read again after EOF"
        self.asked.append(n)
        given = min(n, self.left)
        self.left -= given
        self.ended = given == 0
        return b"x" * given


async def test_skip_stops_at_eof() -> None:
    source = Source(3)
    await _skip(source, 10_000)
    assert source.ended and source.left == 0


async def test_skip_never_asks_for_more_than_a_chunk() -> None:
    length = MAX_BODY + 5
    source = Source(length + 10)
    await _skip(source, length)
    assert source.left == 10, "skipped more or less than the length"
    assert max(source.asked) <= transport._DISCARD_CHUNK < length


# ---- _read_body: good frames -------------------------------------------------------------------

BODY = b'{"jsonrpc":"2.0","id":1,"method":"tuna/getModel"}'
NEXT = b'{"jsonrpc":"2.0","method":"initialized","params":{}}'


async def test_a_good_frame_is_its_body() -> None:
    assert await read_all(stream(frame(BODY))) == ([BODY], [])


@pytest.mark.parametrize(
    "headers",
    [
        (b"content-length: %d",),
        (b"CONTENT-LENGTH: %d",),
        (b"Content-length:%d",),
        (b"Content-Length:   %d  ",),
        (b"Content-Type: application/vscode-jsonrpc; charset=utf-8", b"Content-Length: %d"),
        (b"Content-Length: %d", b"Content-Type: application/vscode-jsonrpc; charset=utf-8"),
        (b"Content-Length: %d", b"X-Anything: Content-Length 3"),
    ],
    ids=["lower", "upper", "no-space", "spaces", "type-first", "type-after", "other-header"],
)
async def test_headers_in_any_case_and_order_frame_the_body(headers: tuple[bytes, ...]) -> None:
    lines = [h % len(BODY) if b"%d" in h else h for h in headers]
    assert await read_all(stream(frame(BODY, *lines), frame(NEXT))) == ([BODY, NEXT], [])


async def test_bare_newlines_end_header_lines_too() -> None:
    data = b"Content-Length: %d\n\n%s" % (len(BODY), BODY)
    assert await read_all(stream(data, frame(NEXT))) == ([BODY, NEXT], [])


async def test_frames_split_anywhere_are_read_whole_and_in_order() -> None:
    data = frame(BODY) + frame(NEXT) + frame(b"{}")
    reader = stream(eof=False)
    feeding = asyncio.create_task(trickle(reader, data, 1))
    assert await read_all(reader) == ([BODY, NEXT, b"{}"], [])
    await feeding


async def test_a_frame_with_a_header_line_of_the_bound_is_read() -> None:
    data = frame(BODY, padded(MAX_HEADER_LINE), b"Content-Length: %d" % len(BODY))
    assert await read_all(stream(data)) == ([BODY], [])


async def test_a_body_of_max_body_bytes_is_read() -> None:
    bodies, replies = await read_all(
        stream(b"Content-Length: %d\r\n\r\n" % MAX_BODY, b" " * MAX_BODY)
    )
    assert replies == []
    assert len(bodies) == 1 and len(bodies[0]) == MAX_BODY


# ---- _read_body: bad frames are answered and skipped, and the next one read --------------------


@pytest.mark.parametrize(
    "value", [b"abc", b"2.5", b"0x10", b"", b"2 3"], ids=["word", "decimal", "hex", "empty", "two"]
)
async def test_a_content_length_not_a_number_is_a_parse_error(value: bytes) -> None:
    bad = frame(b"{}", b"Content-Length: " + value)
    bodies, replies = await read_all(stream(bad, frame(NEXT)))
    assert bodies == [SKIPPED, NEXT]
    assert replies == [
        error(None, -32700, f"Parse error: Content-Length {value!r} is not a number")
    ]


async def test_a_long_content_length_value_is_quoted_short() -> None:
    _, replies = await read_all(stream(frame(b"", b"Content-Length: " + b"z" * 1000)))
    (reply,) = replies
    assert reply["error"]["code"] == -32700
    assert "z" * 40 in reply["error"]["message"] and "z" * 41 not in reply["error"]["message"]


async def test_a_header_line_over_the_bound_is_a_parse_error_and_its_frame_skipped() -> None:
    # a blank line in the body (JSON whitespace): read as headers, it would end a frame of its own
    body = b'{\r\n\r\n"id": 1}'
    bad = frame(body, padded(MAX_HEADER_LINE + 2), b"Content-Length: %d" % len(body))
    bodies, replies = await read_all(stream(bad, frame(NEXT)))
    assert bodies == [SKIPPED, NEXT]
    assert replies == [
        error(None, -32700, f"Parse error: a header line is longer than {MAX_HEADER_LINE} bytes")
    ]


async def test_a_body_over_max_body_is_refused_before_it_comes() -> None:
    # answered at once: the body may never come in full, and is never held
    replies: list[dict[str, Any]] = []
    reader = stream(b"Content-Length: %d\r\n\r\n" % (MAX_BODY + 1), b'{"id":7', eof=False)
    reading = asyncio.create_task(_read_body(reader, replies.append))
    for _ in range(100):
        if replies:
            break
        await asyncio.sleep(0)
    assert replies == [
        # its id is not known yet: the reply's is null
        error(
            None,
            -32600,
            f"Invalid Request: a message of {MAX_BODY + 1} bytes is larger than the "
            f"{MAX_BODY // 2**20} MiB limit",
        )
    ]
    assert not reading.done(), "the rest of the body was not skipped"
    reader.feed_eof()
    assert await reading == SKIPPED
    assert await _read_body(reader, replies.append) is None
    assert len(replies) == 1


async def test_a_body_over_max_body_is_skipped_and_the_next_frame_read() -> None:
    length = MAX_BODY + 1
    head = b"Content-Length: %d\r\n\r\n" % length
    bodies, replies = await read_all(
        stream(head, b'{"id":7,"p":"', b"x" * (length - 13), frame(NEXT))
    )
    assert bodies == [SKIPPED, NEXT]
    (reply,) = replies
    assert reply["id"] is None and reply["error"]["code"] == -32600
    assert f"{length} bytes is larger than the 32 MiB limit" in reply["error"]["message"]


async def test_the_last_of_two_content_lengths_counts() -> None:
    data = frame(BODY, b"Content-Length: 99", b"Content-Length: %d" % len(BODY))
    assert await read_all(stream(data, frame(NEXT))) == ([BODY, NEXT], [])


@pytest.mark.parametrize("name", [b"Content-Length", b"content-length"])
async def test_a_frame_without_content_length_is_answered_and_the_next_read(name: bytes) -> None:
    # nothing says where its body ends: a parse error saying what is expected; the next frame's
    # header is found again in the line the body runs into
    data = frame(BODY, b"Content-Type: application/vscode-jsonrpc; charset=utf-8")
    following = frame(NEXT, name + b": %d" % len(NEXT))
    bodies, replies = await read_all(stream(data, following))
    assert bodies == [SKIPPED, NEXT]
    (reply,) = replies
    assert reply["id"] is None and reply["error"]["code"] == -32700
    assert "without Content-Length; expected 'Content-Length: <bytes>'" in reply["error"]["message"]


async def test_a_blank_line_between_frames_is_passed_over_unanswered() -> None:
    assert await read_all(stream(b"\r\n", frame(NEXT))) == ([SKIPPED, NEXT], [])


@pytest.mark.parametrize("length", [b"0", b"-5", b"-99999999999999999999"])
async def test_a_zero_or_negative_content_length_reads_nothing_and_the_next_is_read(
    length: bytes,
) -> None:
    data = frame(b"{}", b"Content-Length: " + length)
    bodies, replies = await read_all(stream(data, frame(NEXT)))
    assert bodies == [SKIPPED, NEXT]
    (reply,) = replies
    assert reply["error"]["code"] == -32700, reply
    said = reply["error"]["message"]
    assert f"Content-Length {int(length)}; expected the body's size in bytes" in said


# ---- _read_body: EOF anywhere ------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"Content-Len",
        b"Content-Length: 10\r\n",
        b"Content-Length: 10\r\n\r\n",
        b'Content-Length: 10\r\n\r\n{"id":1',
        b"X-Pad: " + b"a" * (2 * MAX_HEADER_LINE),
    ],
    ids=["nothing", "mid-line", "mid-header", "before-body", "mid-body", "mid-long-line"],
)
async def test_eof_anywhere_is_the_end_and_nothing_half_read_is_given(data: bytes) -> None:
    assert await read_all(stream(data)) == ([], [])


async def test_eof_after_a_frame_gives_the_frame_then_the_end() -> None:
    assert await read_all(stream(frame(BODY), b"Content-Length: 5\r\n\r\n{")) == ([BODY], [])


# ---- _id_in ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "found"),
    [
        (b'{"jsonrpc":"2.0","id":7,"method":"x"', 7),
        (b'{"id": -3, "method": "x"', -3),
        (b'{"id" : "req-1", ', "req-1"),
        (b'{"id":' + b'"' + b"s" * 200 + b'"', "s" * 200),
        (b'{"id":1,"params":{"id":2}', 1),
        (b'{"method":"x"', None),
        (b'{"uuid":5,"method":"x"', None),
        (b'{"id":null', None),
        (b'{"id":"a\\"b"', None),
        (b'{"id":' + b'"' + b"s" * 201 + b'"', None),
        (b'{"id":"\xff"', None),
        (b"", None),
    ],
    ids=[
        "number",
        "negative",
        "string",
        "string-200",
        "first",
        "none",
        "other-key",
        "null",
        "escaped",
        "string-201",
        "not-utf8",
        "empty",
    ],
)
def test_id_in_finds_the_id_a_broken_body_still_shows(text: bytes, found: Any) -> None:
    assert _id_in(text) == found


# ---- _parse ------------------------------------------------------------------------------------


def test_a_json_object_is_the_message() -> None:
    replies: list[dict[str, Any]] = []
    assert _parse(BODY, replies.append) == {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tuna/getModel",
    }
    assert replies == []


@pytest.mark.parametrize(
    ("body", "msg_id"),
    [
        (b'{"jsonrpc":"2.0","id":4,"method":"tuna/getModel"', 4),
        (b'{"jsonrpc":"2.0","id":"a","method":"x",}', "a"),
        (b'{"jsonrpc":"2.0","method":"x" "params":{}}', None),
    ],
    ids=["cut", "trailing-comma", "no-id"],
)
def test_invalid_json_is_a_parse_error_with_the_id_it_shows(body: bytes, msg_id: Any) -> None:
    replies: list[dict[str, Any]] = []
    assert _parse(body, replies.append) is None
    (reply,) = replies
    assert reply["jsonrpc"] == "2.0" and reply["id"] == msg_id
    assert reply["error"]["code"] == -32700
    # the decoder's words: what it expected, and where
    assert re.fullmatch(
        r"Parse error: Expecting .+: line 1 column \d+ \(char \d+\)", reply["error"]["message"]
    ), reply


def test_invalid_utf8_is_a_parse_error_naming_the_byte() -> None:
    replies: list[dict[str, Any]] = []
    body = b'{"jsonrpc":"2.0","id":5,"method":"tuna/setModel","params":{"model":"\xff"}}'
    assert _parse(body, replies.append) is None
    (reply,) = replies
    assert reply["id"] == 5 and reply["error"]["code"] == -32700
    message = reply["error"]["message"]
    assert message.startswith("Parse error: ") and "utf-8" in message and "0xff" in message


def test_a_deeply_nested_body_is_a_parse_error() -> None:
    replies: list[dict[str, Any]] = []
    assert _parse(b"[" * 100_000 + b"]" * 100_000, replies.append) is None
    (reply,) = replies
    assert reply["id"] is None and reply["error"]["code"] == -32700


@pytest.mark.parametrize("body", [b"[1,2]", b'"text"', b"null", b"42"])
def test_json_that_is_no_object_is_an_invalid_request(body: bytes) -> None:
    replies: list[dict[str, Any]] = []
    assert _parse(body, replies.append) is None
    assert replies == [error(None, -32600, "Invalid Request: not an object")]


# ---- _refused ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Any:
    return create_server()


@pytest.mark.parametrize(
    ("msg_id", "kind"), [([1], "list"), ({"n": 1}, "dict"), (True, "bool")], ids=str
)
def test_a_request_id_not_a_number_or_string_is_refused(
    server: Any, msg_id: Any, kind: str
) -> None:
    problem = f"the id of a request must be a number or a string, not {kind}"
    raw = {"jsonrpc": "2.0", "id": msg_id, "method": "tuna/getModel"}
    assert _refused(raw, server) == (error(None, -32600, f"Invalid Request: {problem}"), problem)


@pytest.mark.parametrize("jsonrpc", [None, "1.0", 2.0])
def test_a_request_without_jsonrpc_2_is_refused_with_its_id(server: Any, jsonrpc: Any) -> None:
    raw = {"id": 3, "method": "tuna/getModel"}
    if jsonrpc is not None:
        raw["jsonrpc"] = jsonrpc
    problem = "'tuna/getModel': jsonrpc must be \"2.0\""
    assert _refused(raw, server) == (error(3, -32600, f"Invalid Request: {problem}"), problem)


@pytest.mark.parametrize("method", ["textDocument/hover", "tuna/getModel", "shutdown"])
def test_a_notification_to_a_request_method_is_dropped_unanswered(server: Any, method: str) -> None:
    assert _refused({"jsonrpc": "2.0", "method": method}, server) == (
        None,
        f"dropped a notification to {method!r}: it is a request (needs an id)",
    )


def test_a_notification_without_jsonrpc_2_is_dropped_unanswered(server: Any) -> None:
    assert _refused({"method": "initialized", "params": {}}, server) == (
        None,
        "dropped a notification to 'initialized': jsonrpc is not \"2.0\"",
    )


@pytest.mark.parametrize(
    "raw",
    [
        {"jsonrpc": "2.0", "id": 1, "method": "tuna/getModel"},
        {"jsonrpc": "2.0", "id": "a", "method": "tuna/getModel"},
        {"jsonrpc": "2.0", "id": -1.5, "method": "tuna/getModel"},
        {"jsonrpc": "2.0", "id": None, "method": "tuna/getModel"},
        {"jsonrpc": "2.0", "method": "initialized", "params": {}},
        {"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": 1}},
        {"jsonrpc": "2.0", "method": "vendor/somethingElse"},
        {"jsonrpc": "2.0", "id": 1, "result": None},
        {"id": 1, "error": {"code": 1, "message": "m"}},
    ],
    ids=[
        "request",
        "string-id",
        "number-id",
        "null-id",
        "notification",
        "cancel",
        "unknown-notification",
        "response",
        "response-no-jsonrpc",
    ],
)
def test_a_message_a_handler_may_take_is_not_refused(server: Any, raw: dict[str, Any]) -> None:
    assert _refused(raw, server) is None


# ---- _unfit ------------------------------------------------------------------------------------


def unfit(server: Any, method: str, params: Any) -> str:
    raw = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    with pytest.raises(JsonRpcInvalidParams) as err:
        server.protocol.structure_message(raw)
    return _unfit(err.value)


def test_unfit_says_which_field_is_missing_and_where(server: Any) -> None:
    said = unfit(server, "textDocument/hover", {"textDocument": {}})
    parts = said.split("; ")
    assert len(parts) == 2, said
    assert parts[0] == "required field missing @ $.params.textDocument.uri"
    assert parts[1] == "required field missing @ $.params.position"


def test_unfit_says_what_type_was_expected_and_where(server: Any) -> None:
    params = {"textDocument": {"uri": "file:///a"}, "position": {"line": "x", "character": 0}}
    said = unfit(server, "textDocument/hover", params)
    assert said == "invalid value for type, expected int @ $.params.position.line"


def test_unfit_of_another_error_is_its_cause_or_itself_cut_short() -> None:
    cause = ValueError("the cause")
    wrapped = RuntimeError("the wrapper")
    wrapped.__cause__ = cause
    assert _unfit(wrapped) == "the cause"
    assert _unfit(RuntimeError("alone")) == "alone"
    assert _unfit(RuntimeError("y" * 1000)) == "y" * 300

"""The SAM frame codec: known command bytes, incremental parsing, noise, checksums, text block."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.idcard import sam
from devices.idcard.errors import FrameChecksumError


def test_commands_match_the_bytes_readers_expect():
    # The fixed command frames every SAM reader SDK sends.
    assert sam.build_command(*sam.CMD_FIND).hex(" ") == "aa aa aa 96 69 00 03 20 01 22"
    assert sam.build_command(*sam.CMD_SELECT).hex(" ") == "aa aa aa 96 69 00 03 20 02 21"
    assert sam.build_command(*sam.CMD_READ_BASIC).hex(" ") == "aa aa aa 96 69 00 03 30 01 32"


def test_find_card_answer_layout():
    frame = sam.build_response(sam.SW_FOUND, bytes(4))
    assert frame.hex(" ") == "aa aa aa 96 69 00 08 00 00 9f 00 00 00 00 97"


def test_basic_info_answer_has_the_documented_length():
    text = sam.encode_text_block(_card())
    frame = sam.build_response(sam.SW_OK, sam.join_basic_info(text, bytes(1024)))
    assert frame[5:7] == b"\x05\x08"  # 3 status + 4 lengths + 256 + 1024 + 1 checksum
    assert len(frame) == 7 + 0x0508


def _card(**kw) -> sam.CardText:
    values = dict(name="张三丰", sex_code="1", ethnicity_code="01", birth="19900307",
                  address="北京市东城区建国门内大街1号", id_number="110101199003070011",
                  issuer="北京市公安局东城分局", valid_from="20150101", valid_to="20350101")
    values.update(kw)
    return sam.CardText(**values)


def test_text_block_round_trip_and_padding():
    card = _card(valid_to="长期")
    block = sam.encode_text_block(card)
    assert len(block) == 256
    assert block[:6] == "张三丰".encode("utf-16-le")
    assert block[6:8] == b" \x00"  # padded with UTF-16 spaces
    assert sam.decode_text_block(block) == card


def test_field_too_long_is_refused():
    with pytest.raises(ValueError):
        sam.encode_text_block(_card(name="很" * 16))


def test_parser_takes_frames_byte_by_byte_after_noise():
    frames = sam.build_response(sam.SW_NO_CARD) + sam.build_response(sam.SW_FOUND, bytes(4))
    parser = sam.FrameParser()
    got = []
    for b in b"\x00\x13\xaa\xaa" + frames:  # noise, including a partial preamble
        parser.feed(bytes([b]))
        f = parser.next_frame()
        if f is not None:
            got.append(f.status)
    assert got == [sam.SW_NO_CARD, sam.SW_FOUND]
    assert parser.skipped == 4


def test_bad_checksum_is_reported_once_and_parsing_resumes():
    bad = bytearray(sam.build_response(sam.SW_OK, b"\x01\x02\x03"))
    bad[-2] ^= 0xFF
    parser = sam.FrameParser()
    parser.feed(bytes(bad) + sam.build_response(sam.SW_FOUND, bytes(4)))
    with pytest.raises(FrameChecksumError):
        parser.next_frame()
    frame = parser.next_frame()
    assert frame is not None and frame.status == sam.SW_FOUND


def test_absurd_length_is_a_frame_error_not_a_hang():
    parser = sam.FrameParser()
    parser.feed(sam.PREAMBLE + b"\xff\xff" + bytes(10))
    with pytest.raises(FrameChecksumError):
        parser.next_frame()
    assert parser.next_frame() is None


def test_commands_parse_on_the_reader_side():
    parser = sam.FrameParser(response=False)
    parser.feed(sam.build_command(*sam.CMD_READ_BASIC))
    frame = parser.next_frame()
    assert frame is not None and tuple(frame.head) == sam.CMD_READ_BASIC


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300), st.integers(1, 64))
def test_parser_survives_any_bytes(data, chunk):
    parser = sam.FrameParser()
    good = sam.build_response(sam.SW_OK, b"ok")
    stream = data + good
    out = []
    for i in range(0, len(stream), chunk):
        parser.feed(stream[i:i + chunk])
        while True:
            try:
                f = parser.next_frame()
            except FrameChecksumError:
                continue
            if f is None:
                break
            out.append(f)
    # Random bytes may hide the good frame inside a bogus length, but never crash or loop.
    assert all(isinstance(f, sam.Frame) for f in out)


def test_dates():
    assert sam.parse_date("20350101") == dt.date(2035, 1, 1)
    assert sam.parse_date("长期") is None
    assert sam.parse_date("20351301") is None


def test_split_basic_info_rejects_short_data():
    with pytest.raises(FrameChecksumError):
        sam.split_basic_info(b"\x01\x00\x04\x00" + bytes(10))

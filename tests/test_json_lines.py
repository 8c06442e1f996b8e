"""json_lines.JsonLinesParser (DuckDB's JSON reader, typed strictly) against pyarrow's JSON reader with the
same explicit schema: the same table where Arrow reads the lines, an error where Arrow fails."""

from __future__ import annotations

import io
import json

import duckdb
import pyarrow as pa
import pyarrow.json as pj
import pytest

from envoywatch.platforms.x.flat_fast import SCHEMA
from envoywatch.platforms.x.json_lines import JsonLinesParser
from tests.conftest import real_path
from tests.test_fast_import import write_rich_flat


def _arrow(data: bytes, schema=SCHEMA) -> pa.Table:
    return pj.read_json(io.BytesIO(data), read_options=pj.ReadOptions(use_threads=False, block_size=len(data) + 1),
                        parse_options=pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore"))


@pytest.fixture
def parser():
    p = JsonLinesParser(SCHEMA)
    yield p
    p.close()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rich_files_equal_arrow(tmp_path, parser, seed):
    f = tmp_path / "rich.jsonl"
    write_rich_flat(f, 500, seed)
    data = f.read_bytes()
    got = parser.parse(data)
    assert got.num_rows == 500
    assert got.schema.equals(SCHEMA)
    assert got.equals(_arrow(data))


def test_real_twarc_file_equals_arrow(parser):
    data = real_path("fixtures", "twitter_api_v2_twarc", "flat.jsonl").read_bytes()
    got = parser.parse(data)
    assert got.num_rows == data.count(b"\n")
    assert got.equals(_arrow(data))


def test_escapes_decoded_as_arrow_does(parser):
    rows = [{"id": "1", "text": 'a\nb "q" é 中 \\ / \t', "author": {"id": "2", "name": "x\ty", "verified": True}},
            {"id": "2", "text": "😀 \u0000 end", "public_metrics": {"like_count": -3, "retweet_count": 0}},
            {"id": "3", "text": "plain", "lang": None}]
    lines = [json.dumps(rows[0], ensure_ascii=True), json.dumps(rows[1], ensure_ascii=True),
             json.dumps(rows[2], ensure_ascii=False), '{"id":"4","text":"a\\/b \\ud83d\\ude00"}']
    data = ("\n".join(lines) + "\n").encode()
    got = parser.parse(data)
    assert got.equals(_arrow(data))
    assert got.column("text").to_pylist() == [rows[0]["text"], rows[1]["text"], "plain", "a/b 😀"]
    assert got.column("author").to_pylist()[0]["name"] == "x\ty"


@pytest.mark.parametrize("line", [
    '{"id": 12}', '{"id": true}', '{"text": {"a": 1}}', '{"lang": ["x"]}',
    '{"public_metrics": {"like_count": "3"}}', '{"public_metrics": {"like_count": 2.0}}',
    '{"public_metrics": {"like_count": 1e3}}', '{"public_metrics": {"like_count": 9223372036854775808}}',
    '{"public_metrics": {"like_count": true}}', '{"author": {"verified": 1}}', '{"author": {"verified": "true"}}',
    '{"referenced_tweets": [{"type": "quoted", "id": 7}]}', '{"author": "x"}', '{"referenced_tweets": {"id": "1"}}',
    '{"id": "a", "id": "b"}', '[1, 2]', '"x"', '{"entities": {"hashtags": ["x"]}}',
])
def test_values_arrow_refuses_are_refused(parser, line):
    data = (line + "\n").encode()
    with pytest.raises((pa.ArrowInvalid, pa.ArrowNotImplementedError)):
        _arrow(data)
    with pytest.raises((ValueError, duckdb.Error)):
        parser.parse(data)


@pytest.mark.parametrize("line", ['{"id": null, "author": {"verified": null}}', '{"public_metrics": {"like_count": -0}}',
                                  '{"referenced_tweets": [null]}', '{"unknown": {"deep": [1, "x"]}, "id": "5"}', "{}"])
def test_values_arrow_reads_are_read_alike(parser, line):
    data = (line + "\n").encode()
    assert parser.parse(data).equals(_arrow(data))


def test_scratch_file_removed(tmp_path):
    import os

    p = JsonLinesParser(SCHEMA)
    p.parse(b'{"id": "1"}\n')
    assert os.path.exists(p.scratch)
    p.close()
    assert not os.path.exists(p.scratch)

"""Write the bad-input corpus of this folder (run once; the files are committed). See README.md here.

    python tests/data/bad/make_corpus.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).parent


def main() -> None:
    # ---- texts
    (HERE / "truncated.csv").write_bytes(
        b'id,text,topic\n1,"The striker scored twice",sport\n2,"Simmer the sauce",cooking\n'
        b'3,"The rocket launched the satel')
    (HERE / "mixed_encoding.csv").write_bytes(
        "id,text\n1,caf\u00e9 in UTF-8\n2,a quoted \u201cword\u201d\n".encode()
        + "3,na\u00efve in Latin-1\n".encode("latin-1"))
    (HERE / "bom.csv").write_bytes(b"\xef\xbb\xbf" + "id,text\n007,first text\n8,caf\u00e9 second\n".encode())
    (HERE / "bom.jsonl").write_bytes(b'\xef\xbb\xbf{"id": "a", "text": "first"}\n{"id": "b", "text": "second"}\n')
    (HERE / "quoted_newlines.csv").write_bytes(
        b'id,text,note\n1,"line one\nline two",plain\n2,"a ""quoted"" word, and a comma","x\r\ny"\n3,last,z\n')
    # a stray quote: read leniently, the quoted value of row 1 swallows rows 2 and 3 (3 rows became 1 item)
    (HERE / "stray_quote.csv").write_bytes(b'id,text,category\n1,"hello world,x\n2,second,y\n3,"third,z\n')
    (HERE / "duplicate_header.csv").write_bytes(b"id,text,topic,topic\n1,first,a,b\n2,second,a,b\n")
    (HERE / "dotted_columns.csv").write_bytes(
        b"id,text,price.usd,user.name,100%\n1,first text,3.5,ann,x\n2,second text,4,bob,y\n")
    (HERE / "empty.csv").write_bytes(b"")
    (HERE / "header_only.csv").write_bytes(b"id,text,topic\n")
    (HERE / "duplicate_ids.csv").write_bytes(b"id,text\nA1,first\nB2,second\nC3,third\nB2,fourth\n")
    (HERE / "not_object.jsonl").write_bytes(b'{"id": "1", "text": "fine"}\n["a", "list"]\n{"id": "3", "text": "x"}\n')
    pq.write_table(pa.table({"id": ["a", "b", "c"], "text": pa.array([1, 2, 3], pa.int64())}),
                   HERE / "text_ints.parquet")
    # ---- texts in UTF-16/32: with a byte-order mark (read as such), without one (refused, the encoding named)
    wide = "id,text\n007,caf\u00e9 first\n8,\u201cquoted\u201d second \U0001f600\n"
    (HERE / "utf16le_bom.csv").write_bytes(b"\xff\xfe" + wide.encode("utf-16-le"))
    (HERE / "utf16be_bom.tsv").write_bytes(b"\xfe\xff" + wide.replace(",", "\t").encode("utf-16-be"))
    (HERE / "utf32le_bom.jsonl").write_bytes(
        b"\xff\xfe\x00\x00" + '{"id": "j1", "text": "na\u00efve one"}\r\n{"id": "j2", "text": "two"}\n'
        .encode("utf-32-le"))
    (HERE / "utf16le_nobom.csv").write_bytes(wide.encode("utf-16-le"))
    (HERE / "utf16be_nobom.jsonl").write_bytes('{"id": "1", "text": "one"}\n'.encode("utf-16-be"))
    (HERE / "utf32le_nobom.tsv").write_bytes(wide.replace(",", "\t").encode("utf-32-le"))
    (HERE / "utf16le_bom_bad.csv").write_bytes(b"\xff\xfe" + "id,text\n1,ok\n".encode("utf-16-le") + b"\x00\xd8")
    # ---- vectors
    (HERE / "nan_vectors.json").write_text('{"a": [0.1, 0.2, 0.3], "b": [0.4, NaN, 0.6]}\n')
    (HERE / "inf_vectors.jsonl").write_text('{"id": "a", "vector": [0.1, 0.2, 0.3]}\n'
                                            '{"id": "b", "vector": [0.1, 0.2, 0.3]}\n'
                                            '{"id": "c", "vector": [Infinity, 0.2, 0.3]}\n')
    x = np.ones((4, 3), np.float32)
    x[2, 1] = -np.inf
    np.save(HERE / "inf_vectors.npy", x)
    (HERE / "mixed_dim.json").write_text(json.dumps({"a": [0.1, 0.2, 0.3], "b": [0.1, 0.2, 0.3], "c": [0.1, 0.2]}))
    pq.write_table(pa.table({"id": ["a", "b"], "vector": [[0.1, 0.2, 0.3], [0.1, 0.2]]}), HERE / "mixed_dim.parquet")
    (HERE / "not_object.json").write_text("[[0.1, 0.2], [0.3, 0.4]]\n")
    pq.write_table(pa.table({"id": ["a", "b"], "vector": [["0.1", "0.2"], ["0.3", "0.4"]]}),
                   HERE / "vector_strings.parquet")
    (HERE / "utf32be_bom.json").write_bytes(b"\x00\x00\xfe\xff" + '{"a": [0.1, 0.2], "b": [0.3, 0.4]}\n'
                                            .encode("utf-32-be"))
    (HERE / "utf16le_bom.jsonl").write_bytes(b"\xff\xfe" + '{"id": "a", "vector": [0.1, 0.2]}\n'
                                             '{"id": "b", "vector": [0.3, 0.4]}\n'.encode("utf-16-le"))
    (HERE / "utf16le_nobom.json").write_bytes('{"a": [0.1, 0.2], "b": [0.3, 0.4]}\n'.encode("utf-16-le"))
    (HERE / "duplicate_ids.json").write_text('{"a": [0.1, 0.2], "b": [0.3, 0.4], "a": [0.5, 0.6]}\n')
    pq.write_table(pa.table({"id": ["a", "b", "a"], "vector": [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]}),
                   HERE / "duplicate_ids.parquet")
    # brackets nested 100,000 deep in a metadata value / a vector (RecursionError in Python's JSON parser)
    (HERE / "deep_nesting.jsonl").write_text('{"id": "a", "text": "fine"}\n'
                                             '{"id": "b", "text": "x", "meta": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    (HERE / "deep_nesting.json").write_text('{"a": [0.1, 0.2], "b": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    # ---- manifests edited by hand into nonsense (copied over a real workspace's scope.json by the tests)
    m = HERE / "manifests"
    m.mkdir(exist_ok=True)
    (m / "truncated.json").write_text('{\n  "format": 1,\n  "created": "2026-01-01T00:00:00+00:00",\n  "records": {\n    "it')
    (m / "array.json").write_text('[{"format": 1, "records": {}}]\n')
    (m / "wrong_format.json").write_text('{"format": "two", "records": {}}\n')
    (m / "records_list.json").write_text('{"format": 1, "records": ["items"]}\n')
    # brackets nested 5,000 deep: Python's JSON parser recurses once a level (RecursionError, not a JSON error)
    (m / "deep_nesting.json").write_text('{"format": 1, "records": ' + "[" * 5000 + "]" * 5000 + "}\n")
    # ---- request inputs of the server (sent as files by the tests)
    (HERE / "filter_deep.json").write_text("[" * 1000 + "\n")


if __name__ == "__main__":
    main()

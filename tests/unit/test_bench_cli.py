"""The bench and stress command lines: benches chosen by name, stores chosen by flag, and the
load generator's clients dealt across several servers."""

from __future__ import annotations

import pytest
from bench import __main__ as bench_main
from bench.stress import __main__ as stress_main
from bench.stress import loadgen


def test_an_unknown_bench_is_named_with_the_choices() -> None:
    with pytest.raises(SystemExit, match=r"unknown bench pg_nope; choose from writer, .*pg_search"):
        bench_main.main(["pg_nope"])


def test_every_postgres_bench_is_selectable_and_named_pg() -> None:
    postgres = [name for name in bench_main.BENCHES if name.startswith("pg_")]
    assert postgres == ["pg_writer", "pg_ingest", "pg_search", "pg_worker", "pg_http", "pg_scale"]


def test_stress_runs_sqlite_by_default_and_both_stores_with_all() -> None:
    names, options, record = stress_main._parse(["load", "--seconds", "5"])
    assert names == ["load"] and record and [o.store for o in options] == ["sqlite"]
    _, options, _ = stress_main._parse(["--store", "all", "--no-record"])
    assert [o.store for o in options] == ["sqlite", "postgres"]
    assert all(o.seconds == options[0].seconds for o in options)


def test_stress_refuses_an_unknown_store(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        stress_main._parse(["--store", "mysql"])
    assert "invalid choice: 'mysql'" in capsys.readouterr().err


def test_the_load_generator_deals_clients_across_servers() -> None:
    bases = "http://a:1,http://b:2"
    assert [loadgen.server_of(bases, c) for c in range(4)] == [
        "http://a:1",
        "http://b:2",
        "http://a:1",
        "http://b:2",
    ]
    assert loadgen.server_of("http://a:1", 7) == "http://a:1"

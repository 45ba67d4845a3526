"""CSV files and record logs as past sources, read in C++."""

import os
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest

import asp
import asp.data
from conftest import UTC, run

QUOTES = Path(__file__).resolve().parents[2] / "examples" / "data" / "acme_quotes.csv"
T0 = datetime(2025, 1, 1, 11, 50, tzinfo=UTC)
HALF = timedelta(seconds=30)


def test_read_csv_delivers_typed_rows_in_time():
    seen = []
    run([asp.process_stream(lambda t, row: seen.append((t, asp.now(), row)),
                            asp.data.read_csv(str(QUOTES)))], T0)
    assert len(seen) == 20
    assert seen[:2] == [(T0, T0, ("ACME", 9.99, 10.01)), (T0 + HALF, T0 + HALF, ("ACME", 10.02, 10.04))]
    assert [t for t, _, _ in seen] == [T0 + k * HALF for k in range(20)]
    assert asp.data.csv_columns(str(QUOTES)) == ["symbol", "bid", "ask"]


def test_read_csv_unpacks_into_arguments_and_merges_with_python_streams():
    seen = []
    run([asp.process_stream(lambda t, symbol, bid, ask: seen.append((t, symbol, round(ask - bid, 2))),
                            asp.data.read_csv(str(QUOTES), schema="symbol:text,bid:f64,ask:f64"),
                            unpack_args=True),
         asp.process_stream(lambda t, v: seen.append((t, v)), [(T0 + HALF / 2, "between")])], T0)
    assert seen[:3] == [(T0, "ACME", 0.02), (T0 + HALF / 2, "between"), (T0 + HALF, "ACME", 0.02)]
    assert len(seen) == 21


def test_read_csv_without_start_time_shows_naive_local_times():
    seen = []
    run([asp.process_stream(lambda t, row: seen.append(t), asp.data.read_csv(str(QUOTES)))])
    assert seen[0] == datetime(2025, 1, 1, 11, 50)  # the tests' local zone is UTC


def test_a_bad_row_fails_with_file_line_and_column(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("time,bid\n2025-01-01T00:00:00Z,1.5\n2025-01-01T00:00:01Z,n/a\n")
    seen = []
    with pytest.raises(ValueError) as caught:
        run([asp.process_stream(lambda t, row: seen.append(row),
                                asp.data.read_csv(str(path), schema="bid:f64"), name="bids")])
    assert seen == [(1.5,)]
    assert f"{path}:3:22: column 'bid': expected a number, found 'n/a'" in str(caught.value)
    assert "stream 'bids'" in str(caught.value)


def test_bad_rows_can_be_skipped(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("time,bid\n2025-01-01T00:00:00Z,1.5\n2025-01-01T00:00:01Z,n/a\n"
                    "2025-01-01T00:00:02Z,2.5\n")
    seen = []
    run([asp.process_stream(lambda t, row: seen.append(row),
                            asp.data.read_csv(str(path), schema="bid:f64", bad_rows="skip"))])
    assert seen == [(1.5,), (2.5,)]


def test_a_missing_file_fails_at_the_call(tmp_path):
    with pytest.raises(ValueError, match=f"cannot open {tmp_path}/none.csv"):
        asp.data.read_csv(str(tmp_path / "none.csv"))


def test_a_source_is_read_once():
    source = asp.data.read_csv(str(QUOTES))
    run([asp.process_stream(lambda t, row: None, source)], T0)
    with pytest.raises(ValueError, match="has been read by a stream already"):
        run([asp.process_stream(lambda t, row: None, source)], T0)


@pytest.fixture
def quotes_log(tmp_path):
    tool = os.environ.get("ASP_TOOL")
    if not tool:
        pytest.skip("the asp tool is not built (ASP_BUILD_TOOL=OFF)")
    log = tmp_path / "quotes.asplog"
    subprocess.run([tool, "convert", str(QUOTES), str(log)], check=True, capture_output=True)
    return log


def test_read_log_replays_a_recorded_stream(quotes_log):
    seen = []
    run([asp.process_stream(lambda t, row: seen.append((t, row)),
                            asp.data.read_log(str(quotes_log), "acme_quotes",
                                              start=T0 + 10 * HALF))], T0)
    assert len(seen) == 10
    assert seen[0] == (T0 + 10 * HALF, ("ACME", 10.04, 10.06))
    assert [t for t, _ in seen] == [T0 + k * HALF for k in range(10, 20)]


def test_read_log_reads_a_dataset_directory_as_one_log(tmp_path):
    tool = os.environ.get("ASP_TOOL")
    if not tool:
        pytest.skip("the asp tool is not built (ASP_BUILD_TOOL=OFF)")
    dataset = tmp_path / "quotes"
    subprocess.run([tool, "convert", str(QUOTES), str(dataset), "--split-duration", "2m"],
                   check=True, capture_output=True)
    assert len(list(dataset.glob("*.asplog"))) == 5
    seen = []
    run([asp.process_stream(lambda t, row: seen.append((t, row)),
                            asp.data.read_log(str(dataset), "acme_quotes",
                                              start=T0 + 7 * HALF))], T0)
    assert [t for t, _ in seen] == [T0 + k * HALF for k in range(7, 20)]
    assert seen[0] == (T0 + 7 * HALF, ("ACME", 10.04, 10.06))


def test_read_log_names_an_unknown_stream(quotes_log):
    with pytest.raises(ValueError, match="no stream"):
        asp.data.read_log(str(quotes_log), "nope")


def test_a_log_file_hands_out_sources_that_share_one_scan(tmp_path):
    """Two streams of one dataset, each its own source of one LogFile, merged in time by the run
    as any two streams are; a stream asked twice, or one that is not there, is a ValueError."""
    tool = os.environ.get("ASP_TOOL")
    if not tool:
        pytest.skip("the asp tool is not built (ASP_BUILD_TOOL=OFF)")
    (tmp_path / "day").mkdir()
    (tmp_path / "b.csv").write_text(
        "time,size\n" + "".join(f"2025-01-01T11:50:{s:02}Z,{s}\n" for s in (10, 35, 55)))
    subprocess.run([tool, "convert", str(QUOTES), str(tmp_path / "day" / "a.asplog"),
                    "--stream", "quotes"], check=True, capture_output=True)
    subprocess.run([tool, "convert", str(tmp_path / "b.csv"), str(tmp_path / "day" / "b.asplog"),
                    "--stream", "sizes"], check=True, capture_output=True)
    day = asp.data.LogFile(str(tmp_path / "day"), end=T0 + 2 * HALF)
    assert day.streams == ["quotes", "sizes"]
    assert repr(day) == f"<asp.data.LogFile {str(tmp_path / 'day')!r}: streams ['quotes', 'sizes']>"
    seen = []
    quotes, sizes = day.source("quotes"), day.source("sizes")
    with pytest.raises(ValueError, match="already has a source"):
        day.source("quotes")
    with pytest.raises(ValueError, match="no stream 'nope' \\(it has 'quotes', 'sizes'\\)"):
        day.source("nope")
    run([asp.process_stream(lambda t, symbol, bid, ask: seen.append((t, "q", bid)), quotes,
                            unpack_args=True, name="quotes"),
         asp.process_stream(lambda t, row: seen.append((t, "s", row)), sizes)], T0)
    second = timedelta(seconds=1)
    assert seen == [(T0, "q", 9.99), (T0 + 10 * second, "s", (10,)),
                    (T0 + HALF, "q", 10.02), (T0 + 35 * second, "s", (35,)),
                    (T0 + 55 * second, "s", (55,)), (T0 + 2 * HALF, "q", 10.05)]

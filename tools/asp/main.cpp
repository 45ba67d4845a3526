// asp: record live input into a record log, play a log or a CSV file through the loop,
// inspect a file, convert between CSV and logs.
#include "tool.hpp"

#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include <csignal>
#include <exception>
#include <string_view>

namespace {

using namespace asp::tool;

void add_csv_options(CLI::App& command, csv_input_options& csv) {
  command.add_option("--time-column", csv.read.time_column,
                     "CSV: the time column (default: the first of time, timestamp, ts)");
  command
      .add_option_function<std::string>(
          "--epoch",
          [&csv](const std::string& unit) {
            const auto f = asp::data::time_format_named(unit);
            if (!f || *f == asp::data::time_format::iso8601) {
              throw CLI::ValidationError("--epoch", "expected s, ms, us or ns");
            }
            csv.read.times = *f;
          },
          "CSV: times are counts since the epoch in this unit: s, ms, us, ns (default: ISO 8601)")
      ->type_name("UNIT");
  command.add_option("--schema", csv.schema,
                     "CSV: the columns' types, NAME:TYPE,... with TYPE i64, f64, bool or text "
                     "(default: inferred from the first rows)");
  command.add_option("--delimiter", csv.read.delimiter, "CSV: the field delimiter (default ,)");
}

}  // namespace

int main(int argc, char** argv) {
  // A file size limit (or a full disk) is a write error to report, naming the records
  // acknowledged, not a signal that kills the tool without a word.
  std::signal(SIGXFSZ, SIG_IGN);
  CLI::App app{"asp: record, play, inspect and convert timestamped events (ASP's tool)"};
  app.require_subcommand(1);
  app.footer("Run 'asp COMMAND --help' for a command's options and examples.");

  record_options rec;
  CLI::App* record = app.add_subcommand(
      "record",
      "Record live input into a record log, each message with its arrival time (a JetStream "
      "message: the event time it carries)");
  record
      ->add_option("--from", rec.from,
                   "tcp://HOST:PORT, udp://[ADDRESS]:PORT, ws://URL, wss://URL, stdin, or "
                   "nats://HOST:PORT[,HOST:PORT...]/STREAM/SUBJECT (a JetStream subject)")
      ->required();
  record->add_option("--start", rec.start,
                     "nats: TIME (ISO 8601), seq:N or new (default: the stream's first message)");
  record->add_option("--start-tolerance", rec.start_tolerance,
                     "nats, with --start TIME: how much earlier a message's time may be than "
                     "one stored before it (several producers' skew, e.g. 500ms; default 0)");
  record->add_flag("--history", rec.history, "nats: stop once caught up with the stream");
  record
      ->add_option("--out", rec.out,
                   "the record log to create (FILE.asplog), or the dataset's directory when "
                   "splitting")
      ->required();
  record->add_option("--fsync", rec.fsync,
                     "when records become durable: every, close, N records, or a duration "
                     "(default 1s)");
  record->add_option("--stream", rec.stream, "the stream's name (default: the input's kind)");
  record->add_option("--zstd", rec.zstd, "compress chunks with zstd at this level (1 to 19)")
      ->check(CLI::Range(1, 19));
  record->add_option("--split-size", rec.split_size,
                     "a dataset: go on in a new file before one passes SIZE (100M, 1G)");
  record->add_option("--split-duration", rec.split_duration,
                     "a dataset: go on in a new file before one spans DURATION of event time (1h)");
  record->add_flag("--overwrite", rec.overwrite, "replace FILE (a dataset's logs) if it exists");
  record->add_flag("-q,--quiet", rec.quiet, "no progress line, no summary");
  record->add_option("--metrics", rec.metrics,
                     "[ADDRESS]:PORT: serve Prometheus metrics at http://ADDRESS:PORT/metrics "
                     "(loopback without an ADDRESS; port 0 takes a free one)");
  record->footer(
      "Records until the input ends or SIGINT/SIGTERM, then closes the file cleanly.\n"
      "Examples:\n"
      "  asp record --from tcp://127.0.0.1:9000 --out feed.asplog\n"
      "  asp record --from ws://127.0.0.1:8080/quotes --out quotes.asplog --fsync every\n"
      "  tail -f app.log | asp record --from stdin --out app.asplog --fsync 100ms\n"
      "  asp record --from tcp://127.0.0.1:9000 --out feed/ --split-size 1G --split-duration 1h\n"
      "  asp record --from 'nats://127.0.0.1:4222/TRADES/trades.>' --start 2025-01-02T14:31:00Z "
      "--out trades.asplog");

  play_options play;
  CLI::App* play_command =
      app.add_subcommand("play", "Replay a record log or a CSV file through the loop");
  play_command
      ->add_option("FILE", play.file,
                   "a record log (.asplog), a dataset's directory of them, or a CSV file")
      ->required();
  play_command->add_option("--rate", play.rate,
                           "max (default), or a factor: 1 is real time, 60 is a minute a second");
  play_command->add_option("--start", play.start,
                           "TIME (ISO 8601) or +OFFSET after the first record (+90s, +1h30m)");
  play_command->add_option("--end", play.end, "TIME or +OFFSET: the last record's time at most");
  play_command->add_option(
      "--to", play.to,
      "stdout (default), tcp-server://[ADDRESS]:PORT, ws-server://[ADDRESS]:PORT, "
      "udp://HOST:PORT, or nats://HOST:PORT/STREAM/SUBJECT (published with each record's time; "
      "the stream is created if missing). A server without an ADDRESS listens on loopback "
      "(127.0.0.1) only: name 0.0.0.0 to serve every interface");
  play_command->add_option("--format", play.format,
                           "csv (default), json (one object a line; a payload that is not UTF-8 "
                           "as payload_base64) or raw");
  play_command->add_option("--clients", play.clients,
                           "tcp-server, ws-server: wait until this many clients are connected");
  play_command->add_option("--subject", play.subject,
                           "a recording of a nats:// input: only the messages whose subject "
                           "matches this filter (trades.AAPL, trades.*, trades.>)");
  play_command->add_option("--slow-client", play.slow_client,
                           "tcp-server, ws-server: a client 100,000 records behind is dropped "
                           "(drop, the default) or makes the play wait (block)");
  play_command->add_flag("-q,--quiet", play.quiet, "no progress line, no summary");
  play_command->add_option("--metrics", play.metrics,
                           "[ADDRESS]:PORT: serve Prometheus metrics at "
                           "http://ADDRESS:PORT/metrics (loopback without an ADDRESS; port 0 "
                           "takes a free one)");
  add_csv_options(*play_command, play.csv);
  play_command->footer(
      "On a terminal: space pauses and resumes, + and - double and halve the rate, q stops.\n"
      "Examples:\n"
      "  asp play market.asplog --rate 60\n"
      "  asp play quotes.csv --start +1h --end +2h --format json\n"
      "  asp play market.asplog --to tcp-server://127.0.0.1:9000 --clients 1 --rate 1\n"
      "  asp play quotes.csv --to nats://127.0.0.1:4222/QUOTES/quotes.acme");

  inspect_options inspect;
  CLI::App* inspect_command = app.add_subcommand(
      "inspect", "Streams, counts, time range, rate, gaps, order and integrity of a file");
  inspect_command
      ->add_option("FILE", inspect.file,
                   "a record log, a dataset's directory of them (each file and the whole), or a "
                   "CSV file")
      ->required();
  inspect_command->add_option("--gaps", inspect.gaps,
                              "how many of the largest gaps to show (default 3)");
  inspect_command
      ->add_option("--timeline", inspect.timeline,
                   "a sparkline of each stream's event rate over the time range: auto (on a "
                   "terminal), always or never")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  inspect_command->add_option("--gap", inspect.gap,
                              "the timeline marks each stream's gaps of this much or more "
                              "(default 5s)");
  inspect_command->add_option("--columns", inspect.columns,
                              "the timeline's width (default: the terminal's, else 60)");
  inspect_command->add_option("--html", inspect.html,
                              "write a page of pictures (one self-contained HTML file): each "
                              "stream's rate over time, its gaps and out-of-order events");
  inspect_command
      ->add_option("--plot", inspect.plot,
                   "on the page, a numeric column's values over time (least, greatest and last "
                   "in each pixel column): NAME or STREAM:NAME, comma-separated")
      ->delimiter(',');
  add_csv_options(*inspect_command, inspect.csv);
  inspect_command->footer(
      "Examples:\n  asp inspect market.asplog\n  asp inspect quotes.csv --epoch ms\n"
      "  asp inspect market.asplog --timeline always --gap 1m --columns 100\n"
      "  asp inspect quotes.asplog --html quotes.html --plot bid,ask");

  convert_options convert;
  CLI::App* convert_command =
      app.add_subcommand("convert", "A CSV file into a record log, or a log's stream into CSV");
  convert_command->add_option("IN", convert.in, "a CSV file, a record log or a dataset's directory")
      ->required();
  convert_command->add_option("OUT", convert.out, "the record log or CSV file to write")
      ->required();
  convert_command->add_option("--stream", convert.stream,
                              "log to CSV: the stream to write; CSV to log: the stream's name");
  convert_command->add_option("--split-size", convert.split_size,
                              "CSV to log: a dataset in the directory OUT, a file per SIZE");
  convert_command->add_option("--split-duration", convert.split_duration,
                              "CSV to log: a dataset in the directory OUT, a file per DURATION");
  convert_command->add_flag("--overwrite", convert.overwrite, "replace OUT if it exists");
  convert_command->add_flag("-q,--quiet", convert.quiet, "no progress line");
  convert_command->add_flag("--sort", convert.sort,
                            "CSV to log: sort the rows by time (in memory; ties keep the file's "
                            "order) instead of stopping at a row that goes back in time");
  convert_command
      ->add_option("--zstd", convert.zstd,
                   "CSV to log: compress chunks with zstd at this level (1 to 19)")
      ->check(CLI::Range(1, 19));
  add_csv_options(*convert_command, convert.csv);
  convert_command->footer(
      "The CSV's columns and types go into the log's header, so converting back writes the same "
      "columns.\nExamples:\n  asp convert quotes.csv quotes.asplog\n"
      "  asp convert market.asplog trades.csv --stream trades");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  try {
    if (record->parsed()) return run_record(rec);
    if (play_command->parsed()) return run_play(play);
    if (inspect_command->parsed()) return run_inspect(inspect);
    if (convert_command->parsed()) return run_convert(convert);
  } catch (const usage_error& e) {
    fmt::print(stderr, "asp: {}\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    // One line; messages of the library already start with "asp: ".
    const std::string_view message = e.what();
    fmt::print(stderr, "{}{}\n", message.starts_with("asp: ") ? "" : "asp: ", message);
    return 1;
  }
  return 2;
}

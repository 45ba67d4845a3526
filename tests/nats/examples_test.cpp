// The JetStream example programs against a server that maps "trades.<symbol>" to
// "trades.<partition>.<symbol>": four partition processes share the trades, each symbol in
// exactly one of them, nothing lost or repeated; the backtest replays from a start time and
// goes live.

#include <asp/testing/golden.hpp>

#include "nats/nats_server.hpp"

#include <nats/nats.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace asp::testing;

const std::string partition_map =
    "mappings = { \"trades.*\": \"trades.{{partition(4,1)}}.{{wildcard(1)}}\" }\n";

struct process {
  explicit process(const std::string& command) : m_pipe(::popen(command.c_str(), "r")) {
    if (m_pipe == nullptr) throw std::runtime_error("cannot run " + command);
  }
  ~process() {
    if (m_pipe != nullptr) ::pclose(m_pipe);
  }
  process(const process&) = delete;
  process& operator=(const process&) = delete;

  /// The next line of its output, without the newline; false at the end.
  bool line(std::string& out) {
    char buffer[512];
    if (std::fgets(buffer, sizeof buffer, m_pipe) == nullptr) return false;
    out = buffer;
    if (!out.empty() && out.back() == '\n') out.pop_back();
    return true;
  }
  /// The rest of its output, and its exit status.
  std::string rest() {
    std::string all;
    for (std::string l; line(l);) all += l + "\n";
    return all;
  }
  int wait() { return ::pclose(std::exchange(m_pipe, nullptr)); }

 private:
  FILE* m_pipe;
};

std::string program(const char* name) {
  return std::string(ASP_EXAMPLES_BIN) + "/" + name;
}

TEST(NatsExamples, FourPartitionProcessesSeeEachSymbolInExactlyOneAndEveryTradeOnce) {
  temp_dir dir;
  nats_server server(dir.root() / "s", "s1", partition_map);
  server.start();
  {
    process publish(program("nats_publish_trades") + " " + server.url() + " 0 600");
    EXPECT_EQ(publish.rest(), "published 600 trades\n");
    EXPECT_EQ(publish.wait(), 0);
  }
  std::vector<std::unique_ptr<process>> partitions;
  for (int p = 0; p < 4; ++p) {
    partitions.push_back(std::make_unique<process>(program("nats_partition") + " " + server.url() +
                                                   " " + std::to_string(p)));
  }
  std::map<std::string, std::set<int>> partitions_of;  // symbol -> partitions it was seen in
  std::vector<int> times_seen(601, 0);
  std::map<int, std::string> summary;
  for (int p = 0; p < 4; ++p) {
    std::istringstream out(partitions[static_cast<std::size_t>(p)]->rest());
    EXPECT_EQ(partitions[static_cast<std::size_t>(p)]->wait(), 0);
    std::uint64_t previous = 0;
    for (std::string l; std::getline(out, l);) {
      if (l.rfind("partition ", 0) == 0) {
        summary[p] += l + "\n";
        continue;
      }
      std::istringstream fields(l);
      std::uint64_t seq = 0;
      std::string symbol;
      fields >> seq >> symbol;
      ASSERT_TRUE(seq >= 1 && seq <= 600) << l;
      EXPECT_GT(seq, previous) << "in order within a partition";
      previous = seq;
      ++times_seen[seq];
      partitions_of[symbol].insert(p);
    }
  }
  for (int seq = 1; seq <= 600; ++seq)
    EXPECT_EQ(times_seen[static_cast<std::size_t>(seq)], 1) << seq;
  ASSERT_EQ(partitions_of.size(), 6u);
  for (const auto& [symbol, in] : partitions_of) EXPECT_EQ(in.size(), 1u) << symbol;
  // partition(4, 1) hashes the symbol: these are the server's choices.
  EXPECT_EQ(summary[0], "partition 0: META 100\n");
  EXPECT_EQ(summary[1], "partition 1: GOOG 100\n");
  EXPECT_EQ(summary[2], "");
  EXPECT_EQ(summary[3],
            "partition 3: AAPL 100\npartition 3: AMZN 100\npartition 3: MSFT 100\n"
            "partition 3: TSLA 100\n");
}

TEST(NatsExamples, TheBacktestReplaysFromItsStartTimeThenFollowsLiveTrades) {
  temp_dir dir;
  nats_server server(dir.root() / "s", "s1", partition_map);
  server.start();
  {
    process publish(program("nats_publish_trades") + " " + server.url() + " 0 600");
    EXPECT_EQ(publish.wait(), 0);
  }
  process backtest(program("nats_backtest_then_live") + " " + server.url() +
                   " 2025-01-02T14:31:00Z 3");
  std::string output;
  std::string l;
  // The history's summary: its line and one per symbol.
  for (int i = 0; i < 7 && backtest.line(l); ++i) output += l + "\n";
  {
    process publish(program("nats_publish_trades") + " " + server.url() + " 600 3");
    EXPECT_EQ(publish.rest(), "published 3 trades\n");
  }
  output += backtest.rest();
  EXPECT_EQ(backtest.wait(), 0);
  const std::string golden = std::string(ASP_EXAMPLES_DIR) + "/golden/nats_backtest_then_live.txt";
  EXPECT_EQ(asp::testing::compare_with_golden(output, golden), std::nullopt) << output;
}

#ifdef ASP_TOOL
TEST(NatsExamples, TheToolPlaysAFileIntoJetStreamAndRecordsItBack) {
  temp_dir dir;
  nats_server server(dir.root() / "s", "s1");
  server.start();
  const std::string tool = ASP_TOOL;
  const std::string csv = std::string(ASP_EXAMPLES_DIR) + "/data/acme_quotes.csv";
  const std::string log = (dir.root() / "back.asplog").string();
  const std::string subject = "nats://127.0.0.1:" + std::to_string(server.port()) + "/QUOTES/";
  {
    process play(tool + " play " + csv + " -q --to " + subject + "quotes.acme");
    EXPECT_EQ(play.wait(), 0);
  }
  {
    process record(tool + " record -q --history --from '" + subject + "quotes.>' --out " + log);
    EXPECT_EQ(record.wait(), 0);
  }
  // The rows come back as their text, each at its own time.
  process original(tool + " play -q --format raw " + csv);
  process back(tool + " play -q --format raw " + log);
  const std::string rows = back.rest();
  EXPECT_EQ(rows, original.rest());
  EXPECT_EQ(std::count(rows.begin(), rows.end(), '\n'), 20);
  process times(tool + " play -q --format csv " + log);
  std::string line;
  ASSERT_TRUE(times.line(line));
  EXPECT_EQ(line, "time,stream,subject,sequence,payload");
  ASSERT_TRUE(times.line(line));
  EXPECT_EQ(line, "2025-01-01T11:50:00.000000000Z,nats,quotes.acme,1,\"ACME,9.99,10.01\"");
}

// A recording keeps each message's subject, stream sequence and headers (but Asp-Time): it
// plays one subject of a wildcard, and goes back to JetStream on each message's own subject
// with its headers. The messages come from nats.c's plain API, as another service sends them.
TEST(NatsExamples, ARecordingKeepsSubjectsSequencesAndHeadersAndPublishesThemBack) {
  temp_dir dir;
  nats_server server(dir.root() / "s", "s1");
  server.start();
  {
    natsConnection* nc = nullptr;
    jsCtx* js = nullptr;
    ASSERT_EQ(natsConnection_ConnectTo(&nc, server.url().c_str()), NATS_OK);
    ASSERT_EQ(natsConnection_JetStream(&js, nc, nullptr), NATS_OK);
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    const char* subjects[] = {"trades.>"};
    cfg.Name = "TRADES";
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_MemoryStorage;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    ASSERT_EQ(js_AddStream(nullptr, js, &cfg, nullptr, &jerr), NATS_OK) << jerr;
    for (int i = 0; i < 6; ++i) {
      const std::string subject = i % 2 == 0 ? "trades.AAPL" : "trades.MSFT";
      const std::string payload = "px " + std::to_string(100 + i);
      natsMsg* m = nullptr;
      ASSERT_EQ(natsMsg_Create(&m, subject.c_str(), nullptr, payload.data(),
                               static_cast<int>(payload.size())),
                NATS_OK);
      const std::string ns = std::to_string(1'735'722'000'000'000'000 + i * 1'000'000'000LL);
      ASSERT_EQ(natsMsgHeader_Set(m, "Asp-Time", ns.c_str()), NATS_OK);
      ASSERT_EQ(natsMsgHeader_Set(m, "Trace-Id", ("t" + std::to_string(i)).c_str()), NATS_OK);
      jsPubAck* ack = nullptr;
      ASSERT_EQ(js_PublishMsg(&ack, js, m, nullptr, &jerr), NATS_OK) << jerr;
      jsPubAck_Destroy(ack);
      natsMsg_Destroy(m);
    }
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
  }
  const std::string tool = ASP_TOOL;
  const std::string at = "nats://127.0.0.1:" + std::to_string(server.port()) + "/";
  const std::string log = (dir.root() / "trades.asplog").string();
  {
    process record(tool + " record -q --history --from '" + at + "TRADES/trades.>' --out " + log);
    EXPECT_EQ(record.wait(), 0);
  }
  const std::string aapl =
      "{\"time\":\"2025-01-01T09:00:00.000000000Z\",\"stream\":\"nats\",\"subject\":"
      "\"trades.AAPL\",\"sequence\":1,\"headers\":[[\"Trace-Id\",\"t0\"]],\"payload\":\"px 100\"}\n"
      "{\"time\":\"2025-01-01T09:00:02.000000000Z\",\"stream\":\"nats\",\"subject\":"
      "\"trades.AAPL\",\"sequence\":3,\"headers\":[[\"Trace-Id\",\"t2\"]],\"payload\":\"px 102\"}\n"
      "{\"time\":\"2025-01-01T09:00:04.000000000Z\",\"stream\":\"nats\",\"subject\":"
      "\"trades.AAPL\",\"sequence\":5,\"headers\":[[\"Trace-Id\",\"t4\"]],\"payload\":\"px "
      "104\"}\n";
  EXPECT_EQ(process(tool + " play -q --format json --subject trades.AAPL " + log).rest(), aapl);
  EXPECT_EQ(process(tool + " play -q --format raw --subject 'trades.*' " + log).rest(),
            "px 100\npx 101\npx 102\npx 103\npx 104\npx 105\n");
  // From a start time, with a tolerance for several producers' skew: the messages from it.
  {
    const std::string from3 = (dir.root() / "from3.asplog").string();
    const std::string tail = " --from '" + at + "TRADES/trades.>' --out " + from3;
    process record(tool + " record -q --history --start 2025-01-01T09:00:03Z " +
                   "--start-tolerance 2500ms" + tail);
    EXPECT_EQ(record.wait(), 0);
    EXPECT_EQ(process(tool + " play -q --format raw " + from3).rest(), "px 103\npx 104\npx 105\n");
    process refused(tool + " record -q --history --start seq:2 --start-tolerance 1s" + tail +
                    "-2 2>&1");
    EXPECT_NE(refused.rest().find("--start-tolerance is for --start TIME"), std::string::npos);
    EXPECT_NE(refused.wait(), 0);
  }

  // Back to JetStream, on another server (a test system): each message on its own subject,
  // with its headers. A stream whose subjects do not hold them is refused by name.
  nats_server test_system(dir.root() / "t", "t1");
  test_system.start();
  const std::string to = "nats://127.0.0.1:" + std::to_string(test_system.port()) + "/";
  {
    process play(tool + " play -q " + log + " --to '" + to + "ELSEWHERE/other.>' 2>&1");
    const std::string said = play.rest();
    EXPECT_NE(said.find("the recorded subject 'trades.AAPL' is not in the stream's subjects "
                        "'other.>'"),
              std::string::npos)
        << said;
    EXPECT_NE(play.wait(), 0);
  }
  {
    process play(tool + " play -q " + log + " --to '" + to + "COPY/trades.>' 2>&1");
    EXPECT_EQ(play.rest(), "");
    EXPECT_EQ(play.wait(), 0);
  }
  const std::string back = (dir.root() / "back.asplog").string();
  {
    process record(tool + " record -q --history --from '" + to + "COPY/trades.>' --out " + back);
    EXPECT_EQ(record.wait(), 0);
  }
  // The same subjects, sequences, times and payloads; the headers, and the publisher's id.
  EXPECT_EQ(process(tool + " play -q --format csv " + back).rest(),
            process(tool + " play -q --format csv " + log).rest());
  const std::string json = process(tool + " play -q --format json " + back).rest();
  EXPECT_NE(
      json.find("\"headers\":[[\"Nats-Msg-Id\",\"asp play " + log + "-1\"],[\"Trace-Id\",\"t0\"]]"),
      std::string::npos)
      << json;
}
#endif

}  // namespace

// asp::nats against nats.c itself, on one nats-server this program starts (loopback, file
// storage): replaying a stream through an ASP stream vs a raw ordered consumer, live
// publish-to-callback latency vs a raw subscription callback, and the publisher vs raw
// asynchronous publishing. See BENCHMARKS.md.

#include <asp/asp.hpp>
#include <asp/nats/sink.hpp>
#include <asp/nats/source.hpp>

#include "nats/nats_server.hpp"

#include <benchmark/benchmark.h>
#include <nats/nats.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr int history = 200'000;
constexpr int latency_messages = 2'000;
const asp::time_point t0 = std::chrono::sys_days{std::chrono::year{2025} / 1 / 1};

struct server_fixture {
  asp::testing::temp_dir dir;
  asp::testing::nats_server server{dir.root() / "s", "bench"};
  std::unique_ptr<asp::nats::connection> connection;
  server_fixture() {
    server.start();
    connection = std::make_unique<asp::nats::connection>(server.url());
    connection->add_stream({.name = "HIST", .subjects = {"hist.>"}});
    connection->add_stream({.name = "LIVE", .subjects = {"live.>"}, .file_storage = false});
    asp::loop l;
    asp::nats::publisher<std::string> p(l, *connection, {.subject = "hist.x", .name = "setup"});
    const std::string payload(64, 'x');
    for (int i = 0; i < history; ++i) p.publish(t0 + std::chrono::microseconds(i), payload);
    p.flush();
  }
};

server_fixture& fixture() {
  static server_fixture f;
  return f;
}

struct raw_connection {
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  explicit raw_connection(const std::string& url, int64_t max_pending = 4096,
                          jsPubAckErrHandler on_error = nullptr) {
    natsConnection_ConnectTo(&nc, url.c_str());
    jsOptions o;
    jsOptions_Init(&o);
    o.PublishAsync.MaxPending = max_pending;
    o.PublishAsync.ErrHandler = on_error;
    natsConnection_JetStream(&js, nc, &o);
  }
  ~raw_connection() {
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
  }
};

// The baseline: a raw ordered push consumer reading the whole stream, with each message's
// event time read from its header (what any consumer of the stream needs).
void BM_ReplayRawOrderedConsumer(benchmark::State& state) {
  server_fixture& f = fixture();
  raw_connection raw(f.server.url());
  for (auto _ : state) {
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Ordered = true;
    so.Config.DeliverPolicy = js_DeliverAll;
    natsSubscription* sub = nullptr;
    js_SubscribeSync(&sub, raw.js, "hist.>", nullptr, &so, nullptr);
    int64_t sum = 0;
    for (int i = 0; i < history; ++i) {
      natsMsg* m = nullptr;
      if (natsSubscription_NextMsg(&m, sub, 10000) != NATS_OK) {
        state.SkipWithError("no message");
        break;
      }
      const char* t = nullptr;
      natsMsgHeader_Get(m, "Asp-Time", &t);
      sum += t != nullptr ? t[0] : 0;
      sum += natsMsg_GetDataLength(m);
      natsMsg_Destroy(m);
    }
    benchmark::DoNotOptimize(sum);
    natsSubscription_Destroy(sub);
  }
  state.SetItemsProcessed(state.iterations() * history);
}
BENCHMARK(BM_ReplayRawOrderedConsumer)->Unit(benchmark::kMillisecond)->UseRealTime();

// The same stream through an ASP stream: event times, order, the virtual clock.
void BM_ReplayAspStream(benchmark::State& state) {
  server_fixture& f = fixture();
  for (auto _ : state) {
    asp::loop l;
    std::int64_t sum = 0;
    l.run({}, asp::nats::process_subject<std::string>(
                  [&](asp::time_point, const asp::nats::message<std::string>& m) {
                    sum += static_cast<std::int64_t>(m.value.size());
                  },
                  l, *f.connection, {.stream = "HIST", .follow_live = false}));
    if (sum != std::int64_t{history} * 64) state.SkipWithError("not every message");
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * history);
}
BENCHMARK(BM_ReplayAspStream)->Unit(benchmark::kMillisecond)->UseRealTime();

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// One message at a time: published with its send time in the payload, the next once the
// callback has had it. p50 and p99 in microseconds.
template <class Setup>
void measure_latency(benchmark::State& state, const std::string& subject, Setup setup) {
  server_fixture& f = fixture();
  for (auto _ : state) {
    std::vector<std::int64_t> latencies;
    latencies.reserve(latency_messages);
    std::atomic<int> received{0};
    auto on_payload = [&](std::string_view payload) {
      std::int64_t sent = 0;
      std::memcpy(&sent, payload.data(), sizeof sent);
      latencies.push_back(steady_ns() - sent);
      received.fetch_add(1, std::memory_order_release);
    };
    auto publish_all = [&] {
      raw_connection pub(f.server.url());
      for (int i = 0; i < latency_messages; ++i) {
        const std::int64_t now = steady_ns();
        natsMsg* m = nullptr;
        natsMsg_Create(&m, subject.c_str(), nullptr, reinterpret_cast<const char*>(&now),
                       sizeof now);
        const std::string stamp =
            std::to_string((t0 + std::chrono::seconds(i)).time_since_epoch().count());
        natsMsgHeader_Set(m, "Asp-Time", stamp.c_str());
        natsConnection_PublishMsg(pub.nc, m);
        natsConnection_Flush(pub.nc);
        natsMsg_Destroy(m);
        while (received.load(std::memory_order_acquire) <= i) std::this_thread::yield();
      }
    };
    setup(on_payload, publish_all);
    std::sort(latencies.begin(), latencies.end());
    state.counters["p50_us"] = static_cast<double>(latencies[latencies.size() / 2]) / 1000.0;
    state.counters["p99_us"] = static_cast<double>(latencies[latencies.size() * 99 / 100]) / 1000.0;
  }
  state.SetItemsProcessed(state.iterations() * latency_messages);
}

void BM_LiveLatencyRawCallback(benchmark::State& state) {
  measure_latency(state, "live.raw", [](auto& on_payload, auto& publish_all) {
    raw_connection raw(fixture().server.url());
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Ordered = true;
    so.Config.DeliverPolicy = js_DeliverNew;
    natsSubscription* sub = nullptr;
    auto* handler = &on_payload;
    using handler_type = std::remove_reference_t<decltype(on_payload)>;
    js_Subscribe(
        &sub, raw.js, "live.raw",
        [](natsConnection*, natsSubscription*, natsMsg* m, void* closure) {
          (*static_cast<handler_type*>(closure))(std::string_view(
              natsMsg_GetData(m), static_cast<std::size_t>(natsMsg_GetDataLength(m))));
          natsMsg_Destroy(m);
        },
        handler, nullptr, &so, nullptr);
    publish_all();
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
  });
}
BENCHMARK(BM_LiveLatencyRawCallback)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_LiveLatencyAspStream(benchmark::State& state) {
  measure_latency(state, "live.asp", [](auto& on_payload, auto& publish_all) {
    asp::loop l;
    asp::nats::subject_source<std::string> source(
        l, *fixture().connection,
        {.stream = "LIVE", .subject = "live.asp", .start = asp::nats::new_only});
    std::thread producer(publish_all);
    int n = 0;
    l.run({}, asp::process_stream(
                  [&](asp::time_point, const asp::nats::message<std::string>& m) {
                    on_payload(m.value);
                    if (++n == latency_messages) source.close();
                  },
                  source.past(), source.live()));
    producer.join();
  });
}
BENCHMARK(BM_LiveLatencyAspStream)->Unit(benchmark::kMillisecond)->UseRealTime();

constexpr int published = 50'000;

// The baseline: nats.c's asynchronous publishing with the same headers. With an error handler
// (state.range(0) == 1), as the publisher has to report refusals, nats.c reads every
// acknowledgement.
void BM_PublishRawAsync(benchmark::State& state) {
  raw_connection raw(fixture().server.url(), 4096,
                     state.range(0) == 1 ? +[](jsCtx*, jsPubAckErr*, void*) {} : nullptr);
  const std::string payload(64, 'x');
  static int id = 0;  // unique across repetitions: a repeated id would be dropped, not stored
  for (auto _ : state) {
    for (int i = 0; i < published; ++i) {
      natsMsg* m = nullptr;
      natsMsg_Create(&m, "live.pub", nullptr, payload.data(), static_cast<int>(payload.size()));
      const std::string stamp =
          std::to_string((t0 + std::chrono::seconds(i)).time_since_epoch().count());
      natsMsgHeader_Set(m, "Asp-Time", stamp.c_str());
      const std::string msg_id = "raw-" + std::to_string(++id);
      natsMsgHeader_Set(m, "Nats-Msg-Id", msg_id.c_str());
      while (js_PublishMsgAsync(raw.js, &m, nullptr) == NATS_TIMEOUT) {
      }
      if (m != nullptr) natsMsg_Destroy(m);
    }
    jsPubOptions o;
    jsPubOptions_Init(&o);
    o.MaxWait = 60000;
    js_PublishAsyncComplete(raw.js, &o);
  }
  state.SetItemsProcessed(state.iterations() * published);
}
BENCHMARK(BM_PublishRawAsync)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_PublishAspPublisher(benchmark::State& state) {
  asp::loop l;
  static int run = 0;
  asp::nats::connection own(fixture().server.url());  // as the baseline: a connection of its own
  asp::nats::publisher<std::string> p(
      l, own,
      {.subject = "live.pub", .name = "bench" + std::to_string(++run), .max_in_flight = 4096});
  const std::string payload(64, 'x');
  for (auto _ : state) {
    for (int i = 0; i < published; ++i) p.publish(t0 + std::chrono::seconds(i), payload);
    p.flush();
  }
  state.SetItemsProcessed(state.iterations() * published);
}
BENCHMARK(BM_PublishAspPublisher)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();

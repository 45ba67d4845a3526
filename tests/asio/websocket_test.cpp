// asp::asio::websocket_client: messages from a websocket server as live events, faults, and
// TLS (wss://) against a server with a certificate made here. One file: Beast is slow to compile.
#include <asp/asio/websocket.hpp>

#include <asp/asio/backend.hpp>
#include <asp/asio/use_task.hpp>
#include <asp/asp.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "asio_loop.hpp"
#include "test_support.hpp"

namespace {

using namespace asp::testing;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
namespace ssl = boost::asio::ssl;
using asp::asio::use_task;
using boost::asio::ip::tcp;

struct Websocket : ::testing::Test, asio_loop {
  tcp::acceptor acceptor{ioc, tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0)};
  std::vector<std::string> seen;
  std::vector<std::string> received;  // by the server

  std::string url() const {
    return "ws://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/quotes";
  }
  auto record() {
    return [this](asp::time_point t, const std::string& m) {
      seen.push_back(m + " @" + std::to_string(secs(t)));
    };
  }

  // A server, as an asp task on the same loop: accepts one client, reads `expect` messages,
  // sends `messages`, then closes.
  asp::task<void> serve(std::vector<std::string> messages, int expect = 0) {
    tcp::socket socket = co_await acceptor.async_accept(use_task);
    websocket::stream<beast::tcp_stream> ws(std::move(socket));
    co_await ws.async_accept(use_task);
    for (int i = 0; i < expect; ++i) {
      beast::flat_buffer buffer;
      co_await ws.async_read(buffer, use_task);
      received.push_back(beast::buffers_to_string(buffer.data()));
    }
    for (const std::string& m : messages) {
      ws.text(true);
      co_await ws.async_write(boost::asio::buffer(m), use_task);
    }
    co_await ws.async_close(websocket::close_code::normal, use_task);
  }
};

TEST_F(Websocket, MessagesAreEventsAndTheServersCloseEndsTheSource) {
  asp::asio::websocket_client client(ioc, loop, url());
  loop.run(
      {}, serve({"bid 1.5", "ask 1.6"}),
      asp::process_stream(record(), std::vector<asp::event<std::string>>{{t0, "history"}}, client));
  EXPECT_EQ(seen, (std::vector<std::string>{"history @0.000000", "bid 1.5 @86400.000000",
                                            "ask 1.6 @86400.000000"}));
  EXPECT_EQ(client.connections(), 1u);
}

TEST_F(Websocket, TheClientSendsToTheServer) {
  asp::asio::websocket_client client(ioc, loop, url());
  auto talk = [&]() -> asp::task<void> {
    co_await client.send("subscribe X");
    while (auto m = co_await client.next()) seen.push_back(m->value);
  };
  loop.run({}, serve({"ok"}, 1), talk());
  EXPECT_EQ(received, (std::vector<std::string>{"subscribe X"}));
  EXPECT_EQ(seen, (std::vector<std::string>{"ok"}));
}

TEST_F(Websocket, InvalidUtf8InATextMessageFailsTheSourceNamingTheMessage) {
  asp::asio::websocket_client client(ioc, loop, url(), {.name = "feed"});
  const asp::run_error e = run_error_of([&] {
    loop.run({}, serve({"fine", std::string("bad \xff\xfe")}),
             asp::process_stream(record(), asp::none, client));
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"fine @86400.000000"}));
  EXPECT_NE(std::string(e.what()).find("asp: websocket source 'feed', message 2: "),
            std::string::npos)
      << e.what();
}

TEST_F(Websocket, AMessageOverTheMaximumFailsTheSource) {
  asp::asio::websocket_client client(ioc, loop, url(), {.name = "feed", .max_message = 8});
  const asp::run_error e = run_error_of([&] {
    loop.run({}, serve({std::string(64, 'x')}), asp::process_stream(record(), asp::none, client));
  });
  EXPECT_NE(std::string(e.what()).find("asp: websocket source 'feed', message 1: "),
            std::string::npos)
      << e.what();
}

// A server that shook hands and then stopped answering (it never reads again, so pings go
// unanswered) is dropped after the idle timeout: a ping at half of it, the drop at its end.
// Beast's timers run in real time (the peer's silence is real): this test takes 200 ms.
TEST_F(Websocket, KeepAliveDropsAServerThatStopsAnswering) {
  std::optional<websocket::stream<beast::tcp_stream>> silent;
  auto serve_silently = [&]() -> asp::task<void> {
    tcp::socket socket = co_await acceptor.async_accept(use_task);
    silent.emplace(std::move(socket));
    co_await silent->async_accept(use_task);
  };
  std::vector<std::string> lost;
  asp::asio::websocket_client client(
      ioc, loop, url(),
      {.name = "feed", .idle_timeout = 200ms, .on_disconnect = [&](const std::string& reason) {
         lost.push_back(reason);
       }});
  const asp::run_error e = run_error_of(
      [&] { loop.run({}, serve_silently(), asp::process_stream(record(), asp::none, client)); });
  const std::string reason = "the server stopped answering: no frame for 200 ms, a ping unanswered";
  EXPECT_EQ(lost, std::vector<std::string>{reason});
  EXPECT_TRUE(
      std::string(e.what()).ends_with("asp: websocket source 'feed': connection lost: " + reason))
      << e.what();
}

TEST_F(Websocket, ARefusedConnectionFailsTheRunNamingHostAndPort) {
  const std::string address = url();
  const std::uint16_t port = acceptor.local_endpoint().port();
  acceptor.close();
  asp::asio::websocket_client client(ioc, loop, address);
  const asp::run_error e =
      run_error_of([&] { loop.run({}, asp::process_stream(record(), asp::none, client)); });
  EXPECT_TRUE(std::string(e.what()).ends_with(
      "cannot connect to 127.0.0.1:" + std::to_string(port) + ": Connection refused"))
      << e.what();
}

TEST_F(Websocket, WithReconnectTheSourceComesBackAfterTheServerClosesAndReportsTheGap) {
  std::vector<std::string> hooks;
  asp::asio::websocket_client client(
      ioc, loop, url(),
      {.reconnect = {.enabled = true},
       .on_connect = [&](const std::string&) { hooks.push_back("connected"); },
       .on_disconnect = [&](const std::string& reason) { hooks.push_back(reason); }});
  auto servers = [&]() -> asp::task<void> {
    std::vector<std::string> first{"first"};
    std::vector<std::string> second{"second"};
    co_await serve(first);
    co_await serve(second);
  };
  auto on_message = [&](asp::time_point t, const std::string& m) {
    seen.push_back(m + " @" + std::to_string(secs(t)));
    if (m == "second") client.close();
  };
  loop.run({}, servers(), asp::process_stream(on_message, asp::none, client));
  EXPECT_EQ(seen, (std::vector<std::string>{"first @86400.000000", "second @86400.000000"}));
  EXPECT_EQ(hooks, (std::vector<std::string>{"connected", "closed by the server", "connected"}));
}

TEST_F(Websocket, AUrlItCannotUseIsRefusedAtOnce) {
  EXPECT_THROW(asp::asio::websocket_client(ioc, loop, "http://example"), asp::input_error);
  EXPECT_THROW(asp::asio::websocket_client(ioc, loop, "ws://:80/"), asp::input_error);
}

// --- TLS ---

// A self-signed certificate for 127.0.0.1 and localhost, and its key, in PEM.
struct certificate {
  std::string cert_pem;
  std::string key_pem;

  certificate() {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    X509* cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    for (const auto& [nid, value] : {std::pair{NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1"},
                                     std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
      X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
      X509_add_ext(cert, ext, -1);
      X509_EXTENSION_free(ext);
    }
    X509_sign(cert, key, EVP_sha256());
    cert_pem = pem([&](BIO* out) { PEM_write_bio_X509(out, cert); });
    key_pem = pem([&](BIO* out) {
      PEM_write_bio_PrivateKey(out, key, nullptr, nullptr, 0, nullptr, nullptr);
    });
    X509_free(cert);
    EVP_PKEY_free(key);
  }

  template <class Write>
  static std::string pem(Write write) {
    BIO* out = BIO_new(BIO_s_mem());
    write(out);
    char* data = nullptr;
    const long size = BIO_get_mem_data(out, &data);
    std::string text(data, static_cast<std::size_t>(size));
    BIO_free(out);
    return text;
  }
};

struct WebsocketTls : ::testing::Test, asio_loop {
  tcp::acceptor acceptor{ioc, tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0)};
  certificate cert;
  ssl::context server_tls{ssl::context::tls_server};
  std::filesystem::path ca_file =
      std::filesystem::temp_directory_path() / ("asp_ca_" + std::to_string(::getpid()) + ".pem");
  std::vector<std::string> seen;
  std::string server_error;

  WebsocketTls() {
    server_tls.use_certificate(boost::asio::buffer(cert.cert_pem), ssl::context::pem);
    server_tls.use_private_key(boost::asio::buffer(cert.key_pem), ssl::context::pem);
    std::ofstream(ca_file) << cert.cert_pem;
  }
  ~WebsocketTls() override { std::filesystem::remove(ca_file); }

  std::string url() const {
    return "wss://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/feed";
  }

  // A TLS websocket server, as an asp task: sends `messages` to one client and closes.
  asp::task<void> serve(std::vector<std::string> messages) {
    try {
      tcp::socket socket = co_await acceptor.async_accept(use_task);
      websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws(std::move(socket), server_tls);
      co_await ws.next_layer().async_handshake(ssl::stream_base::server, use_task);
      co_await ws.async_accept(use_task);
      for (const std::string& m : messages) {
        co_await ws.async_write(boost::asio::buffer(m), use_task);
      }
      co_await ws.async_close(websocket::close_code::normal, use_task);
    } catch (const boost::system::system_error& e) {
      server_error = e.code().message();
    }
  }
  auto record() {
    return [this](asp::time_point, const std::string& m) { seen.push_back(m); };
  }
};

TEST_F(WebsocketTls, MessagesArriveOverTlsFromAServerTheGivenAuthorityVouchesFor) {
  asp::asio::websocket_client client(ioc, loop, url(), {.ca_file = ca_file.string()});
  std::vector<std::string> messages{"bid 1.5", "ask 1.6"};
  loop.run({}, serve(messages), asp::process_stream(record(), asp::none, client));
  EXPECT_EQ(seen, messages);
  EXPECT_EQ(server_error, "");
}

TEST_F(WebsocketTls, AServerNobodyVouchesForIsRefused) {
  asp::asio::websocket_client client(ioc, loop, url(), {.name = "feed"});
  std::vector<std::string> messages{"never"};
  const asp::run_error e = run_error_of(
      [&] { loop.run({}, serve(messages), asp::process_stream(record(), asp::none, client)); });
  EXPECT_NE(
      std::string(e.what()).find("asp: websocket source 'feed': cannot connect to 127.0.0.1:"),
      std::string::npos)
      << e.what();
  EXPECT_NE(std::string(e.what()).find("certificate verify failed"), std::string::npos) << e.what();
  EXPECT_TRUE(seen.empty());
}

TEST_F(WebsocketTls, VerificationCanBeTurnedOff) {
  asp::asio::websocket_client client(ioc, loop, url(), {.verify_peer = false});
  std::vector<std::string> messages{"unverified"};
  loop.run({}, serve(messages), asp::process_stream(record(), asp::none, client));
  EXPECT_EQ(seen, messages);
}

TEST_F(Websocket, ABroadcastServerSendsEveryMessageToEveryClientThenCloses) {
  std::vector<std::string> log;
  asp::asio::websocket_broadcast_server server(
      ioc, loop, "127.0.0.1", 0,
      {.on_client = [&](const std::string&) { log.push_back("client"); },
       .on_drop = [&](const std::string&, const std::string& why) { log.push_back(why); }});
  const std::string url = "ws://127.0.0.1:" + std::to_string(server.port()) + "/";
  asp::asio::websocket_client a(ioc, loop, url, {.name = "a"});
  asp::asio::websocket_client b(ioc, loop, url, {.name = "b"});
  auto record = [&](std::string who) {
    return [&log, who](asp::time_point, const std::string& m) { log.push_back(who + " " + m); };
  };
  auto publisher = [&]() -> asp::task<void> {
    while (server.clients() < 2) co_await asp::sleep(1ms);
    co_await server.publish("one");
    co_await server.publish("two");
    server.close();  // both still receive both, then the close handshake ends their sources
  };
  loop.run({}, publisher(), asp::process_stream(record("a"), asp::none, a),
           asp::process_stream(record("b"), asp::none, b));
  std::vector<std::string> got_a;
  std::vector<std::string> got_b;
  for (const std::string& l : log) {
    if (l.starts_with("a ")) got_a.push_back(l);
    if (l.starts_with("b ")) got_b.push_back(l);
  }
  EXPECT_EQ(got_a, (std::vector<std::string>{"a one", "a two"}));
  EXPECT_EQ(got_b, (std::vector<std::string>{"b one", "b two"}));
  EXPECT_EQ(std::count(log.begin(), log.end(), "client"), 2);
  EXPECT_EQ(std::count(log.begin(), log.end(), "the server closed"), 2);
  EXPECT_EQ(server.queued(), 0u);
}

}  // namespace

#pragma once

// nats-server processes for the asp::nats tests: each on free loopback ports, with its
// configuration and JetStream store in a fresh directory, its stdio detached, ready once
// /healthz?js-enabled-only=true answers ok, stopped by its process id. A server outlives
// nothing: it dies with the test process (PR_SET_PDEATHSIG), and the next run takes new ports
// and a new directory.

#include "http_client.hpp"
#include "temp_dir.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace asp::testing {

/// One nats-server with JetStream.
class nats_server {
 public:
  /// `dir`: where its configuration, store and log go. `extra`: more configuration (a
  /// cluster block, subject mappings).
  nats_server(std::filesystem::path dir, std::string name, std::string extra = {})
      : m_dir(std::move(dir)),
        m_name(std::move(name)),
        m_port(free_port()),
        m_monitor(free_port()) {
    std::filesystem::create_directories(m_dir);
    std::ofstream conf(m_dir / "server.conf");
    conf << "server_name: " << m_name << "\nlisten: 127.0.0.1:" << m_port
         << "\nhttp: 127.0.0.1:" << m_monitor << "\njetstream { store_dir: \""
         << (m_dir / "store").string() << "\" }\n"
         << extra;
  }
  ~nats_server() { stop(); }
  nats_server(const nats_server&) = delete;
  nats_server& operator=(const nats_server&) = delete;

  /// Starts it (again, after stop or kill) and waits until it is ready.
  void start(bool wait = true) {
    if (m_pid > 0) return;
    const std::string program = ASP_NATS_SERVER;
    const std::string conf = (m_dir / "server.conf").string();
    const std::string log = (m_dir / "server.log").string();
    std::vector<char*> argv{const_cast<char*>(program.c_str()), const_cast<char*>("-c"),
                            const_cast<char*>(conf.c_str()),    const_cast<char*>("-l"),
                            const_cast<char*>(log.c_str()),     nullptr};
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("nats_server: fork failed");
    if (pid == 0) {
      // Only async-signal-safe calls until exec.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(1);
      const int null = ::open("/dev/null", O_RDWR);
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::dup2(null, 2);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    m_pid = pid;
    if (wait) wait_ready();
  }

  /// Waits until its monitoring says JetStream is ready (at most 30 s).
  void wait_ready() const {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      if (http_get(m_monitor, "/healthz?js-enabled-only=true").find("\"ok\"") !=
          std::string::npos) {
        return;
      }
      int status = 0;
      if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
        throw std::runtime_error("nats_server " + m_name + " exited; see " +
                                 (m_dir / "server.log").string());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error("nats_server " + m_name + " not ready within 30 s");
  }

  /// Stops it with SIGTERM (SIGKILL: `kill`) and reaps it.
  void stop(int signal = SIGTERM) {
    if (m_pid <= 0) return;
    ::kill(m_pid, signal);
    int status = 0;
    ::waitpid(m_pid, &status, 0);
    m_pid = -1;
  }
  void kill() { stop(SIGKILL); }

  const std::string& name() const noexcept { return m_name; }
  int port() const noexcept { return m_port; }
  std::string url() const { return "nats://127.0.0.1:" + std::to_string(m_port); }

 private:
  std::filesystem::path m_dir;
  std::string m_name;
  int m_port;
  int m_monitor;
  pid_t m_pid = -1;
};

/// Three servers in one cluster on loopback.
class nats_cluster {
 public:
  explicit nats_cluster(const std::filesystem::path& dir) {
    const int routes[3] = {free_port(), free_port(), free_port()};
    std::string route_list;
    for (int p : routes) {
      if (!route_list.empty()) route_list += ", ";
      route_list += "nats-route://127.0.0.1:" + std::to_string(p);
    }
    for (int i = 0; i < 3; ++i) {
      const std::string name = "n" + std::to_string(i + 1);
      m_nodes.push_back(std::make_unique<nats_server>(
          dir / name, name,
          "cluster { name: asp, listen: 127.0.0.1:" + std::to_string(routes[i]) + ", routes: [" +
              route_list + "] }\n"));
    }
    // Started together: each waits for the others to form the JetStream meta group.
    for (auto& n : m_nodes) n->start(false);
    for (auto& n : m_nodes) n->wait_ready();
  }

  nats_server& node(const std::string& name) {
    for (auto& n : m_nodes) {
      if (n->name() == name) return *n;
    }
    throw std::runtime_error("no node " + name);
  }
  std::string urls() const {
    std::string out;
    for (const auto& n : m_nodes) {
      if (!out.empty()) out += ',';
      out += n->url();
    }
    return out;
  }

 private:
  std::vector<std::unique_ptr<nats_server>> m_nodes;
};

}  // namespace asp::testing

#pragma once

// A loopback HTTP/1.0 client and free ports, for the tests of servers (nats-server's health
// check, the metrics endpoint).

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace asp::testing {

/// A loopback TCP port that nothing listens on, for a server started later by the caller,
/// and that no other test process takes meanwhile. Binding port 0 and closing is not enough:
/// between the close and the server's bind, the kernel may hand the same port to another test
/// running in parallel (asking the same way) or to an outgoing connection as its local port, and
/// two nats-server clusters on shared route ports merge. So the port is taken below the
/// kernel's ephemeral range, and reserved across processes by an exclusive lock on a file named
/// after it in $TMPDIR/asp-test-ports, held until this process exits.
inline int free_port() {
  int low = 32768;  // the ephemeral range's first port
  if (FILE* f = std::fopen("/proc/sys/net/ipv4/ip_local_port_range", "r")) {
    if (std::fscanf(f, "%d", &low) != 1) low = 32768;
    std::fclose(f);
  }
  constexpr int first = 10000;
  if (low - first < 1000) throw std::runtime_error("free_port: the ephemeral range starts too low");
  const char* tmp = std::getenv("TMPDIR");
  const std::string dir =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/asp-test-ports";
  ::mkdir(dir.c_str(), 0777);  // may exist; a lock file that cannot be made is a skipped port
  static int next = first + static_cast<int>(::getpid() * 7919 % (low - first));
  for (int tries = 0; tries < low - first; ++tries) {
    const int port = next;
    next = next + 1 < low ? next + 1 : first;
    const std::string lock = dir + "/" + std::to_string(port);
    const int lock_fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (lock_fd < 0) continue;
    if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(lock_fd);  // another test process holds it
      continue;
    }
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    if (bound) return port;  // lock_fd stays open: the reservation lasts as long as we do
    ::close(lock_fd);        // something outside the tests uses it
  }
  throw std::runtime_error("free_port: no free loopback port below " + std::to_string(low));
}

/// A TCP connection to 127.0.0.1:`port` whose reads give up after `receive_timeout_s`
/// seconds, or -1 when nothing accepts it.
inline int connect_loopback(int port, int receive_timeout_s) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval timeout{receive_timeout_s, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

/// The whole response (status line, headers, body) to `method path` sent to 127.0.0.1:`port`
/// as HTTP/1.0, or "" when nothing answers (within a second).
inline std::string http_request(int port, const std::string& method, const std::string& path) {
  const int fd = connect_loopback(port, 1);
  if (fd < 0) return {};
  std::string response;
  const std::string request = method + " " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
      static_cast<ssize_t>(request.size())) {
    char buffer[4096];
    for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) {
      response.append(buffer, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  return response;
}

/// The body of GET `path` from 127.0.0.1:`port`, or "" when nothing answers.
inline std::string http_get(int port, const std::string& path) {
  const std::string response = http_request(port, "GET", path);
  const std::size_t body = response.find("\r\n\r\n");
  return body == std::string::npos ? std::string() : response.substr(body + 4);
}

}  // namespace asp::testing

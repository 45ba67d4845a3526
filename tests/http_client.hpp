#pragma once

// A loopback HTTP/1.0 client and free ports, for the tests of servers (nats-server's health
// check, the metrics endpoint).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace asp::testing {

/// A loopback TCP port free at the moment of asking.
inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("free_port: cannot bind a loopback port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
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

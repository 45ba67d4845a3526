#pragma once

// The tool's arguments: what the command line says, parsed and checked. Errors are
// usage_error, naming the option and echoing what was given (escaped and cut).

#include <asp/data/log.hpp>
#include <asp/time.hpp>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace asp::tool {

/// A mistake in the command line: reported with the usage hint, exit status 2.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// `TIME` (ISO 8601) or `+OFFSET` after `origin` (e.g. `+90s`, `+1h30m`, `+250ms`).
time_point parse_when(const std::string& text, std::optional<time_point> origin,
                      const std::string& option);

/// A duration like `1h30m`, `90s`, `250ms`, `10us`, `5ns`.
std::optional<duration> parse_duration(std::string_view text);

/// --split-size and --split-duration as a writer's split policy (`option` names them in errors).
data::split_policy parse_split(const std::string& size, const std::string& every);

/// --fsync: every | close | a number of records | a duration.
data::fsync_policy fsync_of(const std::string& text);

/// "ADDRESS:PORT" or ":PORT" (then `dflt_host`) after a URL's scheme; port 0 only when
/// `any_port` (a server's port the system chooses).
std::pair<std::string, std::uint16_t> host_port(std::string_view rest, std::string_view dflt_host,
                                                const std::string& option, bool any_port);

/// A JetStream subject named on the command line: nats://HOST:PORT[,HOST:PORT...]/STREAM/SUBJECT.
struct nats_address {
  std::string servers;  // comma-separated URLs
  std::string stream;
  std::string subject;
};
nats_address parse_nats_address(const std::string& url, const std::string& option);

}  // namespace asp::tool

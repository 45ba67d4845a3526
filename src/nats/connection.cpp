// The connection to NATS, stream administration, and the helpers of nats_support.hpp.

#include <asp/error.hpp>
#include <asp/nats/connection.hpp>

#include "nats_support.hpp"

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace asp::nats {

namespace detail {

connection_state::~connection_state() {
  if (js != nullptr) jsCtx_Destroy(js);
  if (nc != nullptr) natsConnection_Destroy(nc);
}

std::string connection_state::servers() const {
  std::string out;
  for (const std::string& s : options.servers) {
    if (!out.empty()) out += ',';
    out += s;
  }
  return out;
}

jsOptions connection_state::api_options() const {
  jsOptions o;
  jsOptions_Init(&o);
  o.Wait = options.api_timeout.count();
  return o;
}

std::string error_text(natsStatus s, jsErrCode jerr) {
  std::string text = natsStatus_GetText(s);
  natsStatus last = NATS_OK;
  const char* detail = nats_GetLastError(&last);
  if (detail != nullptr && *detail != '\0' && text != detail) {
    text += " (";
    text += detail;
    text += ')';
  }
  if (jerr != 0) text += " [JetStream error " + std::to_string(static_cast<int>(jerr)) + "]";
  return text;
}

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (const char ch : text) {
    const auto byte = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (byte < 0x20) {
      // A control character is not allowed raw inside a JSON string.
      constexpr char hex[] = "0123456789abcdef";
      out += "\\u00";
      out += hex[byte >> 4];
      out += hex[byte & 0xF];
    } else {
      out += ch;
    }
  }
  return out + '"';
}

bool transient(natsStatus s, jsErrCode jerr) noexcept {
  switch (s) {
    case NATS_TIMEOUT:
    case NATS_NO_RESPONDERS:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_IO_ERROR:
    case NATS_NO_SERVER:
    case NATS_NO_SERVER_SUPPORT:
      return true;
    case NATS_ERR:
      return jerr == JSClusterNotAvailErr || jerr == JSClusterNotLeaderErr ||
             jerr == JSStreamOfflineErr || jerr == JSClusterNoPeersErr ||
             jerr == JSInsufficientResourcesErr || jerr == 0;
    default:
      return false;
  }
}

std::string read_time_header(natsMsg* msg, std::int64_t& ns) {
  const char* value = nullptr;
  const natsStatus s = natsMsgHeader_Get(msg, time_header, &value);
  if (s == NATS_NOT_FOUND) return std::string("no ") + time_header + " header";
  if (s != NATS_OK) return std::string("cannot read the headers: ") + natsStatus_GetText(s);
  if (!parse_decimal(std::string_view(value), ns)) {
    return std::string("the ") + time_header + " header '" + value +
           "' is not nanoseconds since the epoch";
  }
  return {};
}

std::vector<std::pair<std::string, std::string>> headers_of(natsMsg* msg, const char* skip) {
  std::vector<std::pair<std::string, std::string>> out;
  const char** keys = nullptr;
  int count = 0;
  if (natsMsgHeader_Keys(msg, &keys, &count) != NATS_OK) return out;
  for (int k = 0; k < count; ++k) {
    if (skip != nullptr && std::strcmp(keys[k], skip) == 0) continue;
    const char** values = nullptr;
    int n = 0;
    if (natsMsgHeader_Values(msg, keys[k], &values, &n) != NATS_OK) continue;
    for (int v = 0; v < n; ++v) out.emplace_back(keys[k], values[v]);
    std::free(static_cast<void*>(values));
  }
  std::free(static_cast<void*>(keys));
  return out;
}

}  // namespace detail

namespace {

std::vector<std::string> split_servers(const std::string& servers) {
  std::vector<std::string> out;
  std::string_view rest(servers);
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    std::string_view one = rest.substr(0, comma);
    if (!one.empty()) out.emplace_back(one);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return out;
}

void check(natsStatus s, const std::string& what) {
  if (s != NATS_OK) throw input_error("asp::nats: " + what + ": " + detail::error_text(s));
}

}  // namespace

connection::connection(const std::string& servers)
    : connection(connect_options{.servers = split_servers(servers)}) {}

connection::connection(connect_options options)
    : m_state(std::make_shared<detail::connection_state>()) {
  detail::connection_state& st = *m_state;
  st.options = std::move(options);
  if (st.options.servers.empty()) throw input_error("asp::nats: no server URL to connect to");
  natsOptions* raw = nullptr;
  check(natsOptions_Create(&raw), "cannot create the connection options");
  const std::unique_ptr<natsOptions, decltype(&natsOptions_Destroy)> opts(raw, natsOptions_Destroy);
  std::vector<const char*> urls;
  for (const std::string& s : st.options.servers) urls.push_back(s.c_str());
  const std::string where = "the servers " + st.servers();
  check(natsOptions_SetServers(opts.get(), urls.data(), static_cast<int>(urls.size())), where);
  check(natsOptions_SetName(opts.get(), st.options.name.c_str()), where);
  check(natsOptions_SetMaxReconnect(opts.get(), -1), where);
  check(natsOptions_SetReconnectWait(opts.get(), st.options.reconnect_wait.count()), where);
  check(natsOptions_SetNoRandomize(opts.get(), true), where);
  check(natsConnection_Connect(&st.nc, opts.get()), "cannot connect to " + st.servers());
  jsOptions js = st.api_options();
  check(natsConnection_JetStream(&st.js, st.nc, &js), "cannot use JetStream at " + st.servers());
}

void connection::add_stream(const stream_config& config) {
  detail::connection_state& st = *m_state;
  std::vector<const char*> subjects;
  for (const std::string& s : config.subjects) subjects.push_back(s.c_str());
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = config.name.c_str();
  cfg.Subjects = subjects.data();
  cfg.SubjectsLen = static_cast<int>(subjects.size());
  cfg.Replicas = static_cast<int64_t>(config.replicas);
  cfg.Storage = config.file_storage ? js_FileStorage : js_MemoryStorage;
  cfg.AllowDirect = config.allow_direct;
  cfg.Duplicates = config.duplicate_window.count();
  jsOptions o = st.api_options();
  jsErrCode jerr = static_cast<jsErrCode>(0);
  const natsStatus s = detail::with_retry(st.options, jerr, [&](jsErrCode& e) {
    jsStreamInfo* info = nullptr;
    natsStatus r = js_AddStream(&info, st.js, &cfg, &o, &e);
    if (info != nullptr) jsStreamInfo_Destroy(info);
    // Created before, perhaps by an attempt whose answer was lost.
    if (r == NATS_ERR && e == JSStreamNameExistErr) r = NATS_OK;
    return r;
  });
  if (s != NATS_OK) {
    throw input_error("asp::nats: cannot create the stream '" + config.name + "' at " +
                      st.servers() + ": " + detail::error_text(s, jerr));
  }
}

void connection::delete_stream(const std::string& name) {
  detail::connection_state& st = *m_state;
  jsOptions o = st.api_options();
  jsErrCode jerr = static_cast<jsErrCode>(0);
  const natsStatus s = detail::with_retry(
      st.options, jerr, [&](jsErrCode& e) { return js_DeleteStream(st.js, name.c_str(), &o, &e); });
  if (s != NATS_OK && s != NATS_NOT_FOUND && jerr != JSStreamNotFoundErr) {
    throw input_error("asp::nats: cannot delete the stream '" + name +
                      "': " + detail::error_text(s, jerr));
  }
}

stream_state connection::stream_info(const std::string& name) const {
  detail::connection_state& st = *m_state;
  jsOptions o = st.api_options();
  jsErrCode jerr = static_cast<jsErrCode>(0);
  jsStreamInfo* info = nullptr;
  const natsStatus s = detail::with_retry(st.options, jerr, [&](jsErrCode& e) {
    return js_GetStreamInfo(&info, st.js, name.c_str(), &o, &e);
  });
  if (s != NATS_OK) {
    throw input_error("asp::nats: no information on the stream '" + name + "' at " + st.servers() +
                      ": " + detail::error_text(s, jerr));
  }
  stream_state out{info->State.Msgs, info->State.FirstSeq, info->State.LastSeq, {}};
  if (info->Cluster != nullptr && info->Cluster->Leader != nullptr)
    out.leader = info->Cluster->Leader;
  out.allow_direct = info->Config != nullptr && info->Config->AllowDirect;
  jsStreamInfo_Destroy(info);
  return out;
}

const connect_options& connection::options() const noexcept {
  return m_state->options;
}

std::string connection::servers() const {
  return m_state->servers();
}

}  // namespace asp::nats

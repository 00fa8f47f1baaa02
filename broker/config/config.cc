#include "broker/config/config.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <utility>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <unistd.h>

#include "absl/status/status.h"
#include "fmt/format.h"
#include "toml++/toml.h"

// Debian builds libtomlplusplus with exceptions, so its parse() lives in toml::ex and throws
// toml::parse_error. Compiling without exceptions would select toml::noex, which the shared
// library does not export.
static_assert(TOML_EXCEPTIONS, "libtomlplusplus is built with exceptions");

namespace simq::config {
namespace {

template <typename E>
struct EnumName {
  std::string_view name;
  E value;
};

constexpr EnumName<ListenerType> kListenerTypes[] = {
    {"tcp", ListenerType::kTcp},
    {"tls", ListenerType::kTls},
    {"ws", ListenerType::kWs},
    {"wss", ListenerType::kWss},
};

constexpr EnumName<CertificateIdentity> kCertificateIdentities[] = {
    {"none", CertificateIdentity::kNone},
    {"cn", CertificateIdentity::kCn},
    {"san", CertificateIdentity::kSan},
};

constexpr EnumName<TlsVersion> kTlsVersions[] = {
    {"1.2", TlsVersion::kTls12},
    {"1.3", TlsVersion::kTls13},
};

constexpr EnumName<AclPolicy> kAclPolicies[] = {
    {"deny", AclPolicy::kDeny},
    {"allow", AclPolicy::kAllow},
};

constexpr EnumName<SharedSubscriptionStrategy> kStrategies[] = {
    {"round_robin", SharedSubscriptionStrategy::kRoundRobin},
    {"random", SharedSubscriptionStrategy::kRandom},
    {"least_inflight", SharedSubscriptionStrategy::kLeastInflight},
};

constexpr EnumName<QueueOverflowPolicy> kOverflowPolicies[] = {
    {"drop_new", QueueOverflowPolicy::kDropNew},
    {"drop_oldest", QueueOverflowPolicy::kDropOldest},
};

constexpr EnumName<StoreBackend> kStoreBackends[] = {
    {"rocksdb", StoreBackend::kRocksDb},
    {"none", StoreBackend::kNone},
};

constexpr EnumName<Durability> kDurabilities[] = {
    {"sync", Durability::kSync},
    {"async", Durability::kAsync},
};

// The names simq::log::ParseLevel accepts, minus its "warning" alias: one spelling per level.
constexpr EnumName<int> kLogLevels[] = {
    {"trace", 0}, {"debug", 1}, {"info", 2}, {"warn", 3}, {"error", 4}, {"off", 5},
};

constexpr int64_t kUint16Max = std::numeric_limits<uint16_t>::max();
constexpr int64_t kUint32Max = std::numeric_limits<uint32_t>::max();
// TOML integers are signed 64-bit, so this is the ceiling of every uint64_t key.
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

template <typename E, size_t N>
std::string_view NameOf(const EnumName<E> (&names)[N], E value) {
  for (const auto& entry : names) {
    if (entry.value == value) return entry.name;
  }
  return "?";
}

template <typename E, size_t N>
std::string NameList(const EnumName<E> (&names)[N]) {
  std::string list;
  for (const auto& entry : names) {
    if (!list.empty()) list += ", ";
    list += entry.name;
  }
  return list;
}

std::string_view TypeName(toml::node_type type) {
  switch (type) {
    case toml::node_type::none: return "nothing";
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
  }
  return "an unknown type";
}

// The address in canonical text form ("::0001" → "::1"), or nullopt if `text` is not an IPv4
// or IPv6 address literal.
std::optional<std::string> CanonicalIp(const std::string& text) {
  char buffer[INET6_ADDRSTRLEN];
  in_addr v4;
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    return std::string(inet_ntop(AF_INET, &v4, buffer, sizeof(buffer)));
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    return std::string(inet_ntop(AF_INET6, &v6, buffer, sizeof(buffer)));
  }
  return std::nullopt;
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

uint32_t LineOf(const toml::node& node) {
  return node.source().begin.line;
}

// Walks the parsed document against the schema, filling a Config and collecting every error.
class Parser {
 public:
  explicit Parser(std::string file) : file_(std::move(file)) {}

  absl::StatusOr<Config> Parse(const toml::table& root);

 private:
  // Reads one value at `path` (the dotted key) into the Config, or records errors.
  using Handler = std::function<void(const toml::node& node, const std::string& path)>;
  struct Field {
    std::string_view name;
    Handler read;
  };

  void Error(uint32_t line, std::string_view path, std::string problem) {
    errors_.push_back({line, fmt::format("{}:{}: {}: {}", file_, line, path, problem)});
    failed_.emplace(path);
  }
  void TypeError(const toml::node& node, const std::string& path, std::string_view expected) {
    Error(LineOf(node), path, fmt::format("expected {}, got {}", expected, TypeName(node.type())));
  }
  bool Failed(std::string_view path) const { return failed_.find(path) != failed_.end(); }
  // The line of a key read without error, or nullopt if the file does not set it.
  std::optional<uint32_t> ReadAt(std::string_view path) const {
    auto it = read_.find(path);
    if (it == read_.end()) return std::nullopt;
    return it->second;
  }

  void ReadTable(const toml::table& table, const std::string& prefix,
                 const std::vector<Field>& fields);
  Handler Table(std::vector<Field> fields);
  Handler Boolean(bool* out);
  // A string; empty ones are refused unless `allow_empty`.
  Handler String(std::string* out, bool allow_empty = false);
  Handler IpAddress(std::string* out);
  Handler StringList(std::vector<std::string>* out);
  Handler Listeners(std::vector<ListenerConfig>* out);

  template <typename T>
  Handler Integer(T* out, int64_t min, int64_t max) {
    return [this, out, min, max](const toml::node& node, const std::string& path) {
      const auto* value = node.as_integer();
      if (value == nullptr) return TypeError(node, path, "an integer");
      const int64_t n = value->get();
      if (n < min || n > max) {
        return Error(LineOf(node), path,
                     fmt::format("must be between {} and {} (got {})", min, max, n));
      }
      *out = static_cast<T>(n);
    };
  }

  template <typename E, size_t N>
  Handler Enum(E* out, const EnumName<E> (&names)[N]) {
    return [this, out, &names](const toml::node& node, const std::string& path) {
      const auto* value = node.as_string();
      if (value == nullptr) return TypeError(node, path, "a string");
      for (const auto& entry : names) {
        if (entry.name == value->get()) {
          *out = entry.value;
          return;
        }
      }
      Error(LineOf(node), path,
            fmt::format("must be one of {} (got \"{}\")", NameList(names), value->get()));
    };
  }

  void CheckLimits(Config& config);
  // Keys of one listener that only make sense together; false after reporting an error.
  bool CheckListener(const ListenerConfig& listener, const std::string& path, uint32_t line);
  // Listeners (by index) whose allow_anonymous the file leaves to the default.
  std::vector<size_t> anonymous_default_;

  const std::string file_;
  struct Message {
    uint32_t line;
    std::string text;
  };
  std::vector<Message> errors_;
  std::set<std::string, std::less<>> failed_;          // keys with an error
  std::map<std::string, uint32_t, std::less<>> read_;  // keys read fine → their line
};

void Parser::ReadTable(const toml::table& table, const std::string& prefix,
                       const std::vector<Field>& fields) {
  for (auto&& [key, node] : table) {
    const std::string name(key.str());
    const std::string path = prefix.empty() ? name : fmt::format("{}.{}", prefix, name);
    auto field =
        std::find_if(fields.begin(), fields.end(), [&](const Field& f) { return f.name == name; });
    if (field != fields.end()) {
      field->read(node, path);
      if (!Failed(path)) read_.emplace(path, LineOf(node));
      continue;
    }
    // A typo or a shortened name is the usual cause: suggest the closest known key, if any is
    // close enough to be what was meant.
    std::string_view suggestion;
    size_t best = std::min<size_t>(3, name.size());
    for (const Field& f : fields) {
      size_t distance = EditDistance(name, f.name);
      if (distance < best) {
        best = distance;
        suggestion = f.name;
      }
    }
    if (suggestion.empty() && name.size() >= 4) {
      for (const Field& f : fields) {
        if (f.name.starts_with(name)) {
          suggestion = f.name;
          break;
        }
      }
    }
    Error(key.source().begin.line, path,
          suggestion.empty() ? "unknown key"
                             : fmt::format("unknown key (did you mean {}?)", suggestion));
  }
}

Parser::Handler Parser::Table(std::vector<Field> fields) {
  return [this, fields = std::move(fields)](const toml::node& node, const std::string& path) {
    const auto* table = node.as_table();
    if (table == nullptr) return TypeError(node, path, "a table");
    ReadTable(*table, path, fields);
  };
}

Parser::Handler Parser::Boolean(bool* out) {
  return [this, out](const toml::node& node, const std::string& path) {
    const auto* value = node.as_boolean();
    if (value == nullptr) return TypeError(node, path, "a boolean");
    *out = value->get();
  };
}

Parser::Handler Parser::String(std::string* out, bool allow_empty) {
  return [this, out, allow_empty](const toml::node& node, const std::string& path) {
    const auto* value = node.as_string();
    if (value == nullptr) return TypeError(node, path, "a string");
    if (value->get().empty() && !allow_empty) return Error(LineOf(node), path, "must not be empty");
    *out = value->get();
  };
}

Parser::Handler Parser::IpAddress(std::string* out) {
  return [this, out](const toml::node& node, const std::string& path) {
    const auto* value = node.as_string();
    if (value == nullptr) return TypeError(node, path, "a string");
    const std::string& text = value->get();
    if (!CanonicalIp(text).has_value()) {
      return Error(LineOf(node), path,
                   fmt::format("must be an IPv4 or IPv6 address literal{} (got \"{}\")",
                               text.starts_with('[') ? " without brackets" : "", text));
    }
    *out = text;
  };
}

Parser::Handler Parser::StringList(std::vector<std::string>* out) {
  return [this, out](const toml::node& node, const std::string& path) {
    const auto* array = node.as_array();
    if (array == nullptr) return TypeError(node, path, "an array of strings");
    std::vector<std::string> values;
    bool ok = true;
    for (size_t i = 0; i < array->size(); ++i) {
      const toml::node& item = *array->get(i);
      const std::string item_path = fmt::format("{}[{}]", path, i);
      const auto* value = item.as_string();
      if (value == nullptr) {
        TypeError(item, item_path, "a string");
        ok = false;
      } else if (value->get().empty()) {
        Error(LineOf(item), item_path, "must not be empty");
        ok = false;
      } else {
        values.push_back(value->get());
      }
    }
    if (!ok) {
      failed_.emplace(path);
      return;
    }
    *out = std::move(values);
  };
}

Parser::Handler Parser::Listeners(std::vector<ListenerConfig>* out) {
  return [this, out](const toml::node& node, const std::string& path) {
    const auto* array = node.as_array();
    if (array == nullptr) return TypeError(node, path, "an array of tables ([[listeners]])");
    if (array->empty()) return Error(LineOf(node), path, "must list at least one listener");
    std::vector<ListenerConfig> listeners;
    bool ok = true;
    for (size_t i = 0; i < array->size(); ++i) {
      const toml::node& item = *array->get(i);
      const std::string item_path = fmt::format("{}[{}]", path, i);
      const auto* table = item.as_table();
      if (table == nullptr) {
        TypeError(item, item_path, "a table");
        ok = false;
        continue;
      }
      ListenerConfig listener;
      const size_t errors_before = errors_.size();
      ReadTable(*table, item_path,
                {
                    {"type", Enum(&listener.type, kListenerTypes)},
                    {"bind", IpAddress(&listener.bind)},
                    {"port", Integer(&listener.port, 0, kUint16Max)},
                    {"name", String(&listener.name)},
                    {"cert_file", String(&listener.cert_file)},
                    {"key_file", String(&listener.key_file)},
                    {"ca_file", String(&listener.ca_file)},
                    {"require_client_cert", Boolean(&listener.require_client_cert)},
                    {"identity_as_username",
                     Enum(&listener.identity_as_username, kCertificateIdentities)},
                    {"tls_min_version", Enum(&listener.tls_min_version, kTlsVersions)},
                    {"ws_path", String(&listener.ws_path)},
                    {"proxy_protocol", Boolean(&listener.proxy_protocol)},
                    {"allow_anonymous", Boolean(&listener.allow_anonymous)},
                    {"max_connections_per_address",
                     Integer(&listener.max_connections_per_address, 0, kUint32Max)},
                    {"connection_rate_per_second",
                     Integer(&listener.connection_rate_per_second, 0, kUint32Max)},
                });
      if (errors_.size() != errors_before || !CheckListener(listener, item_path, LineOf(item))) {
        ok = false;
        continue;
      }
      if (!ReadAt(item_path + ".allow_anonymous")) anonymous_default_.push_back(i);
      // Two listeners on one address and port cannot both bind; say so now, not at start-up.
      for (size_t j = 0; j < listeners.size(); ++j) {
        if (listener.port != 0 && listener.port == listeners[j].port &&
            CanonicalIp(listener.bind) == CanonicalIp(listeners[j].bind)) {
          const std::string port_path = item_path + ".port";
          Error(ReadAt(port_path).value_or(LineOf(item)), port_path,
                fmt::format("{}:{} is already used by {}[{}]", listener.bind, listener.port, path,
                            j));
          ok = false;
        }
        // Names key the per-listener settings of authentication, logs and metrics. (Default
        // names that collide are made unique below.)
        auto name = [](const ListenerConfig& l) {
          return l.name.empty() ? fmt::format("{}:{}", ListenerTypeName(l.type), l.port) : l.name;
        };
        if (!listener.name.empty() && name(listener) == name(listeners[j])) {
          const std::string name_path = item_path + ".name";
          Error(ReadAt(name_path).value_or(LineOf(item)), name_path,
                fmt::format("\"{}\" is already the name of {}[{}]", name(listener), path, j));
          ok = false;
        }
      }
      listeners.push_back(std::move(listener));
    }
    if (!ok) {
      failed_.emplace(path);
      return;
    }
    *out = std::move(listeners);
  };
}

bool Parser::CheckListener(const ListenerConfig& listener, const std::string& path, uint32_t line) {
  const bool tls = listener.type == ListenerType::kTls || listener.type == ListenerType::kWss;
  const bool ws = listener.type == ListenerType::kWs || listener.type == ListenerType::kWss;
  const size_t errors_before = errors_.size();
  auto at = [&](std::string_view key) {
    const std::string key_path = fmt::format("{}.{}", path, key);
    return std::make_pair(key_path, ReadAt(key_path).value_or(line));
  };
  auto error = [&](std::string_view key, std::string problem) {
    auto [key_path, key_line] = at(key);
    Error(key_line, key_path, std::move(problem));
  };
  const std::string_view type = ListenerTypeName(listener.type);
  if (tls) {
    if (listener.cert_file.empty())
      error("cert_file", fmt::format("a {} listener needs one", type));
    if (listener.key_file.empty()) error("key_file", fmt::format("a {} listener needs one", type));
  } else {
    for (std::string_view key : {"cert_file", "key_file", "ca_file", "require_client_cert",
                                 "identity_as_username", "tls_min_version"}) {
      if (ReadAt(at(key).first))
        error(key, fmt::format("only for tls and wss listeners, not {}", type));
    }
  }
  if (listener.require_client_cert && listener.ca_file.empty()) {
    error("require_client_cert", "needs ca_file, the CAs that sign client certificates");
  }
  if (listener.identity_as_username != CertificateIdentity::kNone &&
      !listener.require_client_cert) {
    error("identity_as_username", "needs require_client_cert = true");
  }
  if (!ws && ReadAt(at("ws_path").first)) {
    error("ws_path", fmt::format("only for ws and wss listeners, not {}", type));
  }
  if (ws && !listener.ws_path.starts_with('/')) {
    error("ws_path", fmt::format("must start with '/' (got \"{}\")", listener.ws_path));
  }
  return errors_.size() == errors_before;
}

// Rules that tie several keys together. A key that already has an error is left alone, so
// that one mistake gives one message.
void Parser::CheckLimits(Config& config) {
  MqttConfig& mqtt = config.mqtt;
  if (!Failed("mqtt.max_packet_size") && !Failed("mqtt.max_packet_size_before_connect")) {
    if (auto line = ReadAt("mqtt.max_packet_size_before_connect")) {
      if (mqtt.max_packet_size_before_connect > mqtt.max_packet_size) {
        Error(*line, "mqtt.max_packet_size_before_connect",
              fmt::format("must not exceed mqtt.max_packet_size ({})", mqtt.max_packet_size));
      }
    } else {
      mqtt.max_packet_size_before_connect =
          std::min(mqtt.max_packet_size_before_connect, mqtt.max_packet_size);
    }
  }

  const BackpressureConfig& bp = config.backpressure;
  if (!Failed("backpressure.write_buffer_low_watermark") &&
      !Failed("backpressure.write_buffer_high_watermark") &&
      bp.write_buffer_low_watermark >= bp.write_buffer_high_watermark) {
    if (auto line = ReadAt("backpressure.write_buffer_low_watermark")) {
      Error(*line, "backpressure.write_buffer_low_watermark",
            fmt::format("must be less than backpressure.write_buffer_high_watermark ({})",
                        bp.write_buffer_high_watermark));
    } else {
      Error(ReadAt("backpressure.write_buffer_high_watermark").value_or(0),
            "backpressure.write_buffer_high_watermark",
            fmt::format("must be greater than backpressure.write_buffer_low_watermark ({})",
                        bp.write_buffer_low_watermark));
    }
  }

  if (config.redirect.enabled && config.redirect.servers.empty() && !Failed("redirect.servers")) {
    Error(ReadAt("redirect.enabled").value_or(0), "redirect.enabled",
          "requires at least one server in redirect.servers");
  }
}

absl::StatusOr<Config> Parser::Parse(const toml::table& root) {
  Config config;
  config.source = file_;
  MqttConfig& mqtt = config.mqtt;
  ReadTable(
      root, "",
      {
          {"workers", Integer(&config.workers, 0, 1024)},
          {"data_dir", String(&config.data_dir)},
          {"listeners", Listeners(&config.listeners)},
          {"mqtt",
           Table({
               {"max_packet_size", Integer(&mqtt.max_packet_size, 1, 268'435'460)},
               {"max_packet_size_before_connect",
                Integer(&mqtt.max_packet_size_before_connect, 1, 268'435'460)},
               {"receive_maximum", Integer(&mqtt.receive_maximum, 1, kUint16Max)},
               {"max_inflight_messages", Integer(&mqtt.max_inflight_messages, 1, kUint16Max)},
               {"max_qos", Integer(&mqtt.max_qos, 0, 2)},
               {"retain_available", Boolean(&mqtt.retain_available)},
               {"wildcard_subscriptions", Boolean(&mqtt.wildcard_subscriptions)},
               {"shared_subscriptions", Boolean(&mqtt.shared_subscriptions)},
               {"subscription_identifiers", Boolean(&mqtt.subscription_identifiers)},
               {"topic_alias_maximum", Integer(&mqtt.topic_alias_maximum, 0, kUint16Max)},
               {"server_keep_alive", Integer(&mqtt.server_keep_alive, 0, kUint16Max)},
               {"max_keep_alive", Integer(&mqtt.max_keep_alive, 0, kUint16Max)},
               {"connect_timeout_ms", Integer(&mqtt.connect_timeout_ms, 1, kUint32Max)},
               {"max_session_expiry_interval",
                Integer(&mqtt.max_session_expiry_interval, 0, kUint32Max)},
               {"max_client_id_length", Integer(&mqtt.max_client_id_length, 23, kUint16Max)},
               {"allow_empty_client_id", Boolean(&mqtt.allow_empty_client_id)},
               {"max_connections", Integer(&mqtt.max_connections, 0, kUint32Max)},
               {"max_message_expiry_interval",
                Integer(&mqtt.max_message_expiry_interval, 0, kUint32Max)},
               {"shared_subscription_strategy",
                Enum(&mqtt.shared_subscription_strategy, kStrategies)},
               {"response_information", String(&mqtt.response_information, /*allow_empty=*/true)},
           })},
          {"queues",
           Table({
               {"max_queued_messages", Integer(&config.queues.max_queued_messages, 0, kUint32Max)},
               {"max_queued_bytes", Integer(&config.queues.max_queued_bytes, 0, kInt64Max)},
               {"queue_qos0", Boolean(&config.queues.queue_qos0)},
               {"overflow_policy", Enum(&config.queues.overflow_policy, kOverflowPolicies)},
           })},
          {"retained", Table({
                           {"max_messages", Integer(&config.retained.max_messages, 0, kInt64Max)},
                           {"max_bytes", Integer(&config.retained.max_bytes, 0, kInt64Max)},
                       })},
          {"backpressure",
           Table({
               {"write_buffer_high_watermark",
                Integer(&config.backpressure.write_buffer_high_watermark, 1, kInt64Max)},
               {"write_buffer_low_watermark",
                Integer(&config.backpressure.write_buffer_low_watermark, 0, kInt64Max)},
               {"slow_consumer_timeout_ms",
                Integer(&config.backpressure.slow_consumer_timeout_ms, 0, kUint32Max)},
           })},
          {"sys", Table({
                      {"interval_seconds", Integer(&config.sys.interval_seconds, 0, kUint32Max)},
                  })},
          {"redirect", Table({
                           {"enabled", Boolean(&config.redirect.enabled)},
                           {"permanent", Boolean(&config.redirect.permanent)},
                           {"servers", StringList(&config.redirect.servers)},
                       })},
          {"auth",
           Table({
               {"password_file", String(&config.auth.password_file, /*allow_empty=*/true)},
               {"acl_file", String(&config.auth.acl_file, /*allow_empty=*/true)},
               {"acl_default", Enum(&config.auth.acl_default, kAclPolicies)},
               {"failed_auth_limit", Integer(&config.auth.failed_auth_limit, 0, kUint32Max)},
               {"failed_auth_window_seconds",
                Integer(&config.auth.failed_auth_window_seconds, 1, kUint32Max)},
               {"failed_auth_block_seconds",
                Integer(&config.auth.failed_auth_block_seconds, 1, kUint32Max)},
           })},
          {"store", Table({
                        {"backend", Enum(&config.store.backend, kStoreBackends)},
                        {"durability", Enum(&config.store.durability, kDurabilities)},
                    })},
          {"log", Table({
                      {"level",
                       [this, &config](const toml::node& node, const std::string& path) {
                         int level = 0;
                         Enum(&level, kLogLevels)(node, path);
                         if (!Failed(path)) config.log.level = NameOf(kLogLevels, level);
                       }},
                      {"debug_client_ids", StringList(&config.log.debug_client_ids)},
                  })},
      });
  CheckLimits(config);

  if (!errors_.empty()) {
    std::stable_sort(errors_.begin(), errors_.end(),
                     [](const Message& a, const Message& b) { return a.line < b.line; });
    std::string message;
    for (const Message& error : errors_) {
      if (!message.empty()) message += '\n';
      message += error.text;
    }
    return absl::InvalidArgumentError(message);
  }

  // The default listener too, so that every parsed listener has a name, and a unique one.
  std::set<std::string, std::less<>> names;
  for (const ListenerConfig& listener : config.listeners) names.insert(listener.name);
  for (size_t i = 0; i < config.listeners.size(); ++i) {
    ListenerConfig& listener = config.listeners[i];
    if (!listener.name.empty()) continue;
    listener.name = fmt::format("{}:{}", ListenerTypeName(listener.type), listener.port);
    if (!names.insert(listener.name).second) {
      listener.name = fmt::format("{}#{}", listener.name, i);
      names.insert(listener.name);
    }
  }
  // Anonymous access is off by default once there are users to authenticate (docs/security.md).
  if (!ReadAt("listeners")) anonymous_default_.assign(1, 0);
  for (size_t i : anonymous_default_) {
    config.listeners[i].allow_anonymous = config.auth.password_file.empty();
  }
  const std::filesystem::path config_dir = std::filesystem::path(file_).parent_path();
  auto resolve = [&config_dir](std::string* path) {
    if (!path->empty() && std::filesystem::path(*path).is_relative() && !config_dir.empty()) {
      *path = (config_dir / *path).lexically_normal().string();
    }
  };
  resolve(&config.data_dir);
  resolve(&config.auth.password_file);
  resolve(&config.auth.acl_file);
  for (ListenerConfig& listener : config.listeners) {
    resolve(&listener.cert_file);
    resolve(&listener.key_file);
    resolve(&listener.ca_file);
  }
  return config;
}

}  // namespace

std::string_view ListenerTypeName(ListenerType type) {
  return NameOf(kListenerTypes, type);
}

std::string_view CertificateIdentityName(CertificateIdentity identity) {
  return NameOf(kCertificateIdentities, identity);
}

std::string_view TlsVersionName(TlsVersion version) {
  return NameOf(kTlsVersions, version);
}

std::string_view AclPolicyName(AclPolicy policy) {
  return NameOf(kAclPolicies, policy);
}

std::string_view SharedSubscriptionStrategyName(SharedSubscriptionStrategy strategy) {
  return NameOf(kStrategies, strategy);
}

std::string_view QueueOverflowPolicyName(QueueOverflowPolicy policy) {
  return NameOf(kOverflowPolicies, policy);
}

std::string_view StoreBackendName(StoreBackend backend) {
  return NameOf(kStoreBackends, backend);
}

std::string_view DurabilityName(Durability durability) {
  return NameOf(kDurabilities, durability);
}

absl::StatusOr<Config> ParseConfig(std::string_view text, std::string source) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& error) {
    return absl::InvalidArgumentError(fmt::format("{}:{}:{}: {}", source, error.source().begin.line,
                                                  error.source().begin.column,
                                                  error.description()));
  }
  return Parser(std::move(source)).Parse(root);
}

absl::StatusOr<Config> LoadConfigFile(const std::string& path) {
  const std::string context = fmt::format("cannot read {}", path);
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::ErrnoToStatus(errno, context);
  std::string text;
  char buffer[16 * 1024];
  for (;;) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      close(fd);
      return absl::ErrnoToStatus(error, context);
    }
    text.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return ParseConfig(text, path);
}

std::string ResolveConfigPath(const std::optional<std::string>& flag_path) {
  // `bazel run` starts the binary in its runfiles tree; paths the user typed are relative to
  // where they typed them.
  auto from_user = [](const std::string& path) {
    const char* cwd = std::getenv("BUILD_WORKING_DIRECTORY");
    if (cwd == nullptr || *cwd == '\0' || path.empty() || path.front() == '/') return path;
    return fmt::format("{}/{}", cwd, path);
  };
  if (flag_path.has_value()) return from_user(*flag_path);
  if (const char* env = std::getenv("SI_CFG_PATH"); env != nullptr && *env != '\0') {
    return from_user(env);
  }
  const std::string path = "config/config.toml";
  if (const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY");
      workspace != nullptr && *workspace != '\0') {
    return fmt::format("{}/{}", workspace, path);
  }
  return path;
}

absl::StatusOr<ListenerConfig> ParseListenUrl(std::string_view url) {
  auto fail = [url](std::string_view problem) {
    return absl::InvalidArgumentError(fmt::format("invalid listener URL \"{}\": {}", url, problem));
  };
  const size_t separator = url.find("://");
  if (separator == std::string_view::npos) {
    return fail("expected <scheme>://<address>:<port>, e.g. tcp://0.0.0.0:1883");
  }
  ListenerConfig listener;
  const std::string_view scheme = url.substr(0, separator);
  auto type = std::find_if(std::begin(kListenerTypes), std::end(kListenerTypes),
                           [&](const auto& entry) { return entry.name == scheme; });
  if (type == std::end(kListenerTypes)) {
    return fail(
        fmt::format("unknown scheme \"{}\" (expected {})", scheme, NameList(kListenerTypes)));
  }
  listener.type = type->value;

  const std::string_view rest = url.substr(separator + 3);
  if (rest.find('/') != std::string_view::npos) return fail("a path is not supported");
  std::string_view host;
  std::string_view port;
  if (rest.starts_with('[')) {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) return fail("missing ']' after the IPv6 address");
    host = rest.substr(1, close - 1);
    const std::string_view after = rest.substr(close + 1);
    if (!after.starts_with(':')) return fail("missing port after the address");
    port = after.substr(1);
    in6_addr v6;
    if (inet_pton(AF_INET6, std::string(host).c_str(), &v6) != 1) {
      return fail(fmt::format("\"{}\" is not an IPv6 address", host));
    }
  } else {
    const size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos) return fail("missing port after the address");
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return fail("an IPv6 address must be in brackets, e.g. tcp://[::1]:1883");
    }
    in_addr v4;
    if (inet_pton(AF_INET, std::string(host).c_str(), &v4) != 1) {
      return fail(fmt::format("host \"{}\" is not an IP address literal", host));
    }
  }
  uint32_t number = 0;
  const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), number);
  if (port.empty() || error != std::errc() || end != port.data() + port.size() ||
      number > kUint16Max) {
    return fail(fmt::format("port \"{}\" is not a number between 0 and 65535", port));
  }
  listener.bind = std::string(host);
  listener.port = static_cast<uint16_t>(number);
  listener.name = fmt::format("{}:{}", ListenerTypeName(listener.type), listener.port);
  return listener;
}

}  // namespace simq::config

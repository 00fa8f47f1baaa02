#include "broker/config/config.h"

#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "fmt/format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace simq::config {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// The error message ParseConfig gives for `toml` (named "config.toml"), or "OK".
std::string ErrorOf(std::string_view toml) {
  absl::StatusOr<Config> config = ParseConfig(toml, "config.toml");
  if (config.ok()) return "OK";
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(config.status().message());
}

Config Parsed(std::string_view toml, std::string source = "config.toml") {
  absl::StatusOr<Config> config = ParseConfig(toml, std::move(source));
  EXPECT_TRUE(config.ok()) << config.status();
  return config.ok() ? *config : Config{};
}

TEST(ParseConfigTest, EmptyFileGivesDefaults) {
  Config expected;
  expected.source = "config.toml";
  expected.listeners[0].name = "tcp:1883";  // the one thing parsing adds
  EXPECT_EQ(Parsed(""), expected);
  EXPECT_EQ(Parsed("# only a comment\n\n"), expected);
}

TEST(ParseConfigTest, DefaultsAreWhatTheDocumentationSays) {
  // docs/config.md promises these; a changed default must change the documentation too.
  const Config config = Parsed("");
  EXPECT_EQ(config.workers, 0u);
  EXPECT_EQ(config.data_dir, "data");
  ASSERT_EQ(config.listeners.size(), 1u);
  EXPECT_EQ(config.listeners[0].type, ListenerType::kTcp);
  EXPECT_EQ(config.listeners[0].bind, "0.0.0.0");
  EXPECT_EQ(config.listeners[0].port, 1883);
  EXPECT_EQ(config.mqtt.max_packet_size, 268'435'460u);
  EXPECT_EQ(config.mqtt.max_packet_size_before_connect, 65'536u);
  EXPECT_EQ(config.mqtt.receive_maximum, 1024);
  EXPECT_EQ(config.mqtt.max_qos, 2);
  EXPECT_EQ(config.mqtt.topic_alias_maximum, 64);
  EXPECT_EQ(config.mqtt.connect_timeout_ms, 10'000u);
  EXPECT_EQ(config.mqtt.max_session_expiry_interval, 0xFFFFFFFFu);
  EXPECT_EQ(config.queues.max_queued_messages, 1000u);
  EXPECT_EQ(config.queues.max_queued_bytes, 64u << 20);
  EXPECT_EQ(config.backpressure.write_buffer_high_watermark, 4u << 20);
  EXPECT_EQ(config.backpressure.write_buffer_low_watermark, 1u << 20);
  EXPECT_EQ(config.backpressure.slow_consumer_timeout_ms, 60'000u);
  EXPECT_EQ(config.sys.interval_seconds, 10u);
  EXPECT_EQ(config.log.level, "info");
  EXPECT_TRUE(config.listeners[0].allow_anonymous);  // no password file
  EXPECT_EQ(config.listeners[0].ws_path, "/mqtt");
  EXPECT_EQ(config.listeners[0].tls_min_version, TlsVersion::kTls12);
  EXPECT_EQ(config.listeners[0].identity_as_username, CertificateIdentity::kNone);
  EXPECT_FALSE(config.listeners[0].proxy_protocol);
  EXPECT_EQ(config.listeners[0].max_connections_per_address, 0u);
  EXPECT_EQ(config.listeners[0].connection_rate_per_second, 0u);
  EXPECT_EQ(config.auth.password_file, "");
  EXPECT_EQ(config.auth.acl_file, "");
  EXPECT_EQ(config.auth.acl_default, AclPolicy::kDeny);
  EXPECT_EQ(config.auth.failed_auth_limit, 10u);
  EXPECT_EQ(config.auth.failed_auth_window_seconds, 60u);
  EXPECT_EQ(config.auth.failed_auth_block_seconds, 60u);
}

TEST(ParseConfigTest, PasswordFileTurnsAnonymousOffUnlessAListenerSaysOtherwise) {
  const Config with_users = Parsed("[auth]\npassword_file = \"u\"\n");
  EXPECT_FALSE(with_users.listeners[0].allow_anonymous);
  const Config explicit_allow = Parsed(
      "[[listeners]]\nallow_anonymous = true\n[[listeners]]\nport = 1884\n"
      "[auth]\npassword_file = \"u\"\n");
  EXPECT_TRUE(explicit_allow.listeners[0].allow_anonymous);
  EXPECT_FALSE(explicit_allow.listeners[1].allow_anonymous);
}

TEST(ParseConfigErrorTest, ListenerOptionsThatNeedEachOther) {
  EXPECT_EQ(ErrorOf("[[listeners]]\ntype = \"tls\"\nport = 8883\n"),
            "config.toml:1: listeners[0].cert_file: a tls listener needs one\n"
            "config.toml:1: listeners[0].key_file: a tls listener needs one");
  EXPECT_EQ(ErrorOf("[[listeners]]\ncert_file = \"x\"\n"),
            "config.toml:2: listeners[0].cert_file: only for tls and wss listeners, not tcp");
  EXPECT_EQ(ErrorOf("[[listeners]]\ntype = \"tls\"\ncert_file = \"c\"\nkey_file = \"k\"\n"
                    "require_client_cert = true\n"),
            "config.toml:5: listeners[0].require_client_cert: needs ca_file, the CAs that sign "
            "client certificates");
  EXPECT_EQ(ErrorOf("[[listeners]]\ntype = \"wss\"\ncert_file = \"c\"\nkey_file = \"k\"\n"
                    "ca_file = \"a\"\nidentity_as_username = \"cn\"\n"),
            "config.toml:6: listeners[0].identity_as_username: needs require_client_cert = true");
  EXPECT_EQ(ErrorOf("[[listeners]]\nws_path = \"/x\"\n"),
            "config.toml:2: listeners[0].ws_path: only for ws and wss listeners, not tcp");
  EXPECT_EQ(ErrorOf("[[listeners]]\ntype = \"ws\"\nws_path = \"mqtt\"\n"),
            "config.toml:3: listeners[0].ws_path: must start with '/' (got \"mqtt\")");
  EXPECT_EQ(ErrorOf("[[listeners]]\nport = 1\n[[listeners]]\nport = 2\nname = \"tcp:1\"\n"),
            "config.toml:5: listeners[1].name: \"tcp:1\" is already the name of listeners[0]");
  const Config port_zero = Parsed("[[listeners]]\nport = 0\n[[listeners]]\nport = 0\n");
  EXPECT_EQ(port_zero.listeners[0].name, "tcp:0");
  EXPECT_EQ(port_zero.listeners[1].name, "tcp:0#1");
  EXPECT_EQ(ErrorOf("[auth]\nacl_default = \"maybe\"\n"),
            "config.toml:2: auth.acl_default: must be one of deny, allow (got \"maybe\")");
}

// Every key the loader knows, each set to a value that is not its default.
constexpr std::string_view kEveryKey = R"(
workers = 4
data_dir = "/var/lib/simq"

[[listeners]]
type = "tls"
bind = "::"
port = 8883
name = "public-tls"
cert_file = "certs/server.pem"
key_file = "/etc/simq/server.key"
ca_file = "certs/clients-ca.pem"
require_client_cert = true
identity_as_username = "san"
tls_min_version = "1.3"
proxy_protocol = true
allow_anonymous = true
max_connections_per_address = 20
connection_rate_per_second = 100

[[listeners]]
type = "wss"
bind = "127.0.0.1"
port = 0
cert_file = "server.pem"
key_file = "server.key"
ws_path = "/ws"

[mqtt]
max_packet_size = 1048576
max_packet_size_before_connect = 4096
receive_maximum = 100
max_inflight_messages = 200
max_qos = 1
retain_available = false
wildcard_subscriptions = false
shared_subscriptions = false
subscription_identifiers = false
topic_alias_maximum = 0
server_keep_alive = 30
max_keep_alive = 600
connect_timeout_ms = 5000
max_session_expiry_interval = 86400
max_client_id_length = 128
allow_empty_client_id = false
max_connections = 50000
max_message_expiry_interval = 3600
shared_subscription_strategy = "least_inflight"
response_information = "responses/%c/"

[queues]
max_queued_messages = 0
max_queued_bytes = 1073741824
queue_qos0 = true
overflow_policy = "drop_oldest"

[retained]
max_messages = 100000
max_bytes = 536870912

[backpressure]
write_buffer_high_watermark = 8388608
write_buffer_low_watermark = 2097152
slow_consumer_timeout_ms = 0

[sys]
interval_seconds = 0

[redirect]
enabled = true
permanent = true
servers = ["10.0.0.2:1883", "broker-b.example:1883"]

[auth]
password_file = "users.txt"
acl_file = "/etc/simq/acl.txt"
acl_default = "allow"
failed_auth_limit = 0
failed_auth_window_seconds = 30
failed_auth_block_seconds = 600

[log]
level = "debug"
debug_client_ids = ["sensor-1", "sensor-2"]
)";

TEST(ParseConfigTest, ReadsEveryKey) {
  const Config c = Parsed(kEveryKey, "/etc/simq/simq.toml");
  EXPECT_EQ(c.source, "/etc/simq/simq.toml");
  EXPECT_EQ(c.workers, 4u);
  EXPECT_EQ(c.data_dir, "/var/lib/simq");

  ASSERT_EQ(c.listeners.size(), 2u);
  EXPECT_EQ(c.listeners[0].type, ListenerType::kTls);
  EXPECT_EQ(c.listeners[0].bind, "::");
  EXPECT_EQ(c.listeners[0].port, 8883);
  EXPECT_EQ(c.listeners[0].name, "public-tls");
  EXPECT_EQ(c.listeners[1].type, ListenerType::kWss);
  EXPECT_EQ(c.listeners[1].bind, "127.0.0.1");
  EXPECT_EQ(c.listeners[1].port, 0);
  EXPECT_EQ(c.listeners[1].name, "wss:0");
  // Relative paths are relative to the configuration file.
  EXPECT_EQ(c.listeners[0].cert_file, "/etc/simq/certs/server.pem");
  EXPECT_EQ(c.listeners[0].key_file, "/etc/simq/server.key");
  EXPECT_EQ(c.listeners[0].ca_file, "/etc/simq/certs/clients-ca.pem");
  EXPECT_TRUE(c.listeners[0].require_client_cert);
  EXPECT_EQ(c.listeners[0].identity_as_username, CertificateIdentity::kSan);
  EXPECT_EQ(c.listeners[0].tls_min_version, TlsVersion::kTls13);
  EXPECT_TRUE(c.listeners[0].proxy_protocol);
  EXPECT_TRUE(c.listeners[0].allow_anonymous);
  EXPECT_EQ(c.listeners[0].max_connections_per_address, 20u);
  EXPECT_EQ(c.listeners[0].connection_rate_per_second, 100u);
  EXPECT_EQ(c.listeners[1].ws_path, "/ws");
  EXPECT_EQ(c.listeners[1].cert_file, "/etc/simq/server.pem");
  // A password file turns anonymous access off where the listener does not say.
  EXPECT_FALSE(c.listeners[1].allow_anonymous);
  EXPECT_EQ(c.auth.password_file, "/etc/simq/users.txt");
  EXPECT_EQ(c.auth.acl_file, "/etc/simq/acl.txt");
  EXPECT_EQ(c.auth.acl_default, AclPolicy::kAllow);
  EXPECT_EQ(c.auth.failed_auth_limit, 0u);
  EXPECT_EQ(c.auth.failed_auth_window_seconds, 30u);
  EXPECT_EQ(c.auth.failed_auth_block_seconds, 600u);

  EXPECT_EQ(c.mqtt.max_packet_size, 1'048'576u);
  EXPECT_EQ(c.mqtt.max_packet_size_before_connect, 4096u);
  EXPECT_EQ(c.mqtt.receive_maximum, 100);
  EXPECT_EQ(c.mqtt.max_inflight_messages, 200);
  EXPECT_EQ(c.mqtt.max_qos, 1);
  EXPECT_FALSE(c.mqtt.retain_available);
  EXPECT_FALSE(c.mqtt.wildcard_subscriptions);
  EXPECT_FALSE(c.mqtt.shared_subscriptions);
  EXPECT_FALSE(c.mqtt.subscription_identifiers);
  EXPECT_EQ(c.mqtt.topic_alias_maximum, 0);
  EXPECT_EQ(c.mqtt.server_keep_alive, 30);
  EXPECT_EQ(c.mqtt.max_keep_alive, 600);
  EXPECT_EQ(c.mqtt.connect_timeout_ms, 5000u);
  EXPECT_EQ(c.mqtt.max_session_expiry_interval, 86400u);
  EXPECT_EQ(c.mqtt.max_client_id_length, 128);
  EXPECT_FALSE(c.mqtt.allow_empty_client_id);
  EXPECT_EQ(c.mqtt.max_connections, 50000u);
  EXPECT_EQ(c.mqtt.max_message_expiry_interval, 3600u);
  EXPECT_EQ(c.mqtt.shared_subscription_strategy, SharedSubscriptionStrategy::kLeastInflight);
  EXPECT_EQ(c.mqtt.response_information, "responses/%c/");

  EXPECT_EQ(c.queues.max_queued_messages, 0u);
  EXPECT_EQ(c.queues.max_queued_bytes, 1'073'741'824u);
  EXPECT_TRUE(c.queues.queue_qos0);
  EXPECT_EQ(c.queues.overflow_policy, QueueOverflowPolicy::kDropOldest);

  EXPECT_EQ(c.retained.max_messages, 100'000u);
  EXPECT_EQ(c.retained.max_bytes, 536'870'912u);

  EXPECT_EQ(c.backpressure.write_buffer_high_watermark, 8'388'608u);
  EXPECT_EQ(c.backpressure.write_buffer_low_watermark, 2'097'152u);
  EXPECT_EQ(c.backpressure.slow_consumer_timeout_ms, 0u);

  EXPECT_EQ(c.sys.interval_seconds, 0u);

  EXPECT_TRUE(c.redirect.enabled);
  EXPECT_TRUE(c.redirect.permanent);
  EXPECT_THAT(c.redirect.servers, ::testing::ElementsAre("10.0.0.2:1883", "broker-b.example:1883"));

  EXPECT_EQ(c.log.level, "debug");
  EXPECT_THAT(c.log.debug_client_ids, ::testing::ElementsAre("sensor-1", "sensor-2"));
}

TEST(ParseConfigTest, EveryEnumValueIsAccepted) {
  const std::pair<std::string_view, ListenerType> types[] = {{"tcp", ListenerType::kTcp},
                                                             {"tls", ListenerType::kTls},
                                                             {"ws", ListenerType::kWs},
                                                             {"wss", ListenerType::kWss}};
  for (const auto& [name, type] : types) {
    const bool tls = type == ListenerType::kTls || type == ListenerType::kWss;
    const Config c = Parsed(fmt::format("[[listeners]]\ntype = \"{}\"\nport = 9000\n{}", name,
                                        tls ? "cert_file = \"c\"\nkey_file = \"k\"\n" : ""));
    EXPECT_EQ(c.listeners.at(0).type, type) << name;
    EXPECT_EQ(c.listeners.at(0).name, fmt::format("{}:9000", name));
    EXPECT_EQ(ListenerTypeName(type), name);
  }
  const std::pair<std::string_view, SharedSubscriptionStrategy> strategies[] = {
      {"round_robin", SharedSubscriptionStrategy::kRoundRobin},
      {"random", SharedSubscriptionStrategy::kRandom},
      {"least_inflight", SharedSubscriptionStrategy::kLeastInflight}};
  for (const auto& [name, strategy] : strategies) {
    EXPECT_EQ(Parsed(fmt::format("[mqtt]\nshared_subscription_strategy = \"{}\"", name))
                  .mqtt.shared_subscription_strategy,
              strategy)
        << name;
    EXPECT_EQ(SharedSubscriptionStrategyName(strategy), name);
  }
  const std::pair<std::string_view, QueueOverflowPolicy> policies[] = {
      {"drop_new", QueueOverflowPolicy::kDropNew},
      {"drop_oldest", QueueOverflowPolicy::kDropOldest}};
  for (const auto& [name, policy] : policies) {
    EXPECT_EQ(
        Parsed(fmt::format("[queues]\noverflow_policy = \"{}\"", name)).queues.overflow_policy,
        policy)
        << name;
    EXPECT_EQ(QueueOverflowPolicyName(policy), name);
  }
  for (std::string_view level : {"trace", "debug", "info", "warn", "error", "off"}) {
    EXPECT_EQ(Parsed(fmt::format("[log]\nlevel = \"{}\"", level)).log.level, level);
  }
}

TEST(ParseConfigTest, ListenersReplaceTheDefault) {
  const Config c = Parsed(R"(
[[listeners]]
port = 1884

[[listeners]]
type = "ws"
bind = "::1"
port = 8080
)");
  ASSERT_EQ(c.listeners.size(), 2u);
  EXPECT_EQ(c.listeners[0], (ListenerConfig{ListenerType::kTcp, "0.0.0.0", 1884, "tcp:1884"}));
  EXPECT_EQ(c.listeners[1], (ListenerConfig{ListenerType::kWs, "::1", 8080, "ws:8080"}));
}

TEST(ParseConfigTest, InlineListenerArrayIsAccepted) {
  const Config c = Parsed(
      R"(listeners = [{ port = 1884 }, { type = "tls", port = 8883, cert_file = "c", key_file = "k" }])");
  ASSERT_EQ(c.listeners.size(), 2u);
  EXPECT_EQ(c.listeners[1].name, "tls:8883");
}

TEST(ParseConfigTest, DataDirResolvesAgainstTheConfigFilesDirectory) {
  EXPECT_EQ(Parsed("data_dir = \"state\"", "/etc/simq/simq.toml").data_dir, "/etc/simq/state");
  EXPECT_EQ(Parsed("data_dir = \"../var/simq\"", "/etc/simq/simq.toml").data_dir, "/etc/var/simq");
  EXPECT_EQ(Parsed("data_dir = \"/srv/simq\"", "/etc/simq/simq.toml").data_dir, "/srv/simq");
  EXPECT_EQ(Parsed("data_dir = \"state\"", "config/config.toml").data_dir, "config/state");
  // The default is relative too.
  EXPECT_EQ(Parsed("", "/etc/simq/simq.toml").data_dir, "/etc/simq/data");
  // A file in the working directory: relative to it, unchanged.
  EXPECT_EQ(Parsed("data_dir = \"state\"", "simq.toml").data_dir, "state");
}

TEST(ParseConfigTest, PacketSizeBeforeConnectFollowsASmallerMaximum) {
  EXPECT_EQ(Parsed("[mqtt]\nmax_packet_size = 1024").mqtt.max_packet_size_before_connect, 1024u);
  EXPECT_EQ(Parsed("[mqtt]\nmax_packet_size = 100000").mqtt.max_packet_size_before_connect,
            65'536u);
  EXPECT_EQ(ErrorOf("[mqtt]\nmax_packet_size = 1024\nmax_packet_size_before_connect = 2048\n"),
            "config.toml:3: mqtt.max_packet_size_before_connect: must not exceed "
            "mqtt.max_packet_size (1024)");
  EXPECT_EQ(ErrorOf("[mqtt]\nmax_packet_size_before_connect = 268435460\n"), "OK");
}

TEST(ParseConfigErrorTest, UnknownKeyAtTopLevel) {
  EXPECT_EQ(ErrorOf("workers = 2\nwrokers = 3\n"),
            "config.toml:2: wrokers: unknown key (did you mean workers?)");
  EXPECT_EQ(ErrorOf("\n\nthreads = 3\n"), "config.toml:3: threads: unknown key");
}

TEST(ParseConfigErrorTest, UnknownKeyInATable) {
  EXPECT_EQ(ErrorOf("[mqtt]\nmax_qos = 1\n\nrecieve_maximum = 100\n"),
            "config.toml:4: mqtt.recieve_maximum: unknown key (did you mean receive_maximum?)");
  EXPECT_EQ(ErrorOf("[log]\nformat = \"json\"\n"), "config.toml:2: log.format: unknown key");
  // Dotted keys name the same table.
  EXPECT_EQ(ErrorOf("mqtt.bogus = 1\n"), "config.toml:1: mqtt.bogus: unknown key");
}

TEST(ParseConfigErrorTest, UnknownTable) {
  EXPECT_EQ(ErrorOf("workers = 1\n[cluster]\nmode = \"kafka\"\n"),
            "config.toml:2: cluster: unknown key");
  EXPECT_EQ(ErrorOf("[mqqt]\nmax_qos = 1\n"),
            "config.toml:1: mqqt: unknown key (did you mean mqtt?)");
}

TEST(ParseConfigErrorTest, UnknownKeyInAListener) {
  EXPECT_EQ(ErrorOf("[[listeners]]\nport = 1884\n\n[[listeners]]\nprot = 1885\n"),
            "config.toml:5: listeners[1].prot: unknown key (did you mean port?)");
}

TEST(ParseConfigErrorTest, WrongType) {
  EXPECT_EQ(ErrorOf("[mqtt]\nreceive_maximum = \"100\"\n"),
            "config.toml:2: mqtt.receive_maximum: expected an integer, got a string");
  EXPECT_EQ(ErrorOf("workers = 1.5\n"), "config.toml:1: workers: expected an integer, got a float");
  EXPECT_EQ(ErrorOf("[mqtt]\nretain_available = 1\n"),
            "config.toml:2: mqtt.retain_available: expected a boolean, got an integer");
  EXPECT_EQ(ErrorOf("data_dir = 5\n"),
            "config.toml:1: data_dir: expected a string, got an integer");
  EXPECT_EQ(ErrorOf("mqtt = 5\n"), "config.toml:1: mqtt: expected a table, got an integer");
  EXPECT_EQ(ErrorOf("[log]\ndebug_client_ids = \"a\"\n"),
            "config.toml:2: log.debug_client_ids: expected an array of strings, got a string");
  EXPECT_EQ(ErrorOf("[redirect]\nservers = [\"a:1\", 2]\n"),
            "config.toml:2: redirect.servers[1]: expected a string, got an integer");
  EXPECT_EQ(ErrorOf("[[listeners]]\nport = \"1883\"\n"),
            "config.toml:2: listeners[0].port: expected an integer, got a string");
  EXPECT_EQ(ErrorOf("listeners = 1883\n"),
            "config.toml:1: listeners: expected an array of tables ([[listeners]]), got an "
            "integer");
  EXPECT_EQ(ErrorOf("[sys]\ninterval_seconds = 1979-05-27\n"),
            "config.toml:2: sys.interval_seconds: expected an integer, got a date");
}

TEST(ParseConfigErrorTest, OutOfRange) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"workers = 1025", "workers: must be between 0 and 1024 (got 1025)"},
      {"workers = -1", "workers: must be between 0 and 1024 (got -1)"},
      {"[mqtt]\nreceive_maximum = 0", "mqtt.receive_maximum: must be between 1 and 65535 (got 0)"},
      {"[mqtt]\nreceive_maximum = 65536",
       "mqtt.receive_maximum: must be between 1 and 65535 (got 65536)"},
      {"[mqtt]\nmax_inflight_messages = 0",
       "mqtt.max_inflight_messages: must be between 1 and 65535 (got 0)"},
      {"[mqtt]\nmax_qos = 3", "mqtt.max_qos: must be between 0 and 2 (got 3)"},
      {"[mqtt]\nmax_packet_size = 0",
       "mqtt.max_packet_size: must be between 1 and 268435460 (got 0)"},
      {"[mqtt]\nmax_packet_size = 268435461",
       "mqtt.max_packet_size: must be between 1 and 268435460 (got 268435461)"},
      {"[mqtt]\ntopic_alias_maximum = 65536",
       "mqtt.topic_alias_maximum: must be between 0 and 65535 (got 65536)"},
      {"[mqtt]\nserver_keep_alive = -5",
       "mqtt.server_keep_alive: must be between 0 and 65535 (got -5)"},
      {"[mqtt]\nmax_client_id_length = 22",
       "mqtt.max_client_id_length: must be between 23 and 65535 (got 22)"},
      {"[mqtt]\nconnect_timeout_ms = 0",
       "mqtt.connect_timeout_ms: must be between 1 and 4294967295 (got 0)"},
      {"[mqtt]\nmax_session_expiry_interval = 4294967296",
       "mqtt.max_session_expiry_interval: must be between 0 and 4294967295 (got 4294967296)"},
      {"[queues]\nmax_queued_bytes = -1",
       "queues.max_queued_bytes: must be between 0 and 9223372036854775807 (got -1)"},
      {"[backpressure]\nwrite_buffer_high_watermark = 0",
       "backpressure.write_buffer_high_watermark: must be between 1 and 9223372036854775807 "
       "(got 0)"},
      {"[sys]\ninterval_seconds = 4294967296",
       "sys.interval_seconds: must be between 0 and 4294967295 (got 4294967296)"},
  };
  for (const auto& [toml, message] : cases) {
    const int line = toml.find('\n') == std::string_view::npos ? 1 : 2;
    EXPECT_EQ(ErrorOf(toml), fmt::format("config.toml:{}: {}", line, message)) << toml;
  }
  // The edges themselves are fine.
  EXPECT_EQ(ErrorOf("workers = 1024\n[mqtt]\nreceive_maximum = 65535\nmax_qos = 0\n"
                    "max_client_id_length = 23\nmax_session_expiry_interval = 4294967295\n"),
            "OK");
}

TEST(ParseConfigErrorTest, ListenerValues) {
  EXPECT_EQ(ErrorOf("[[listeners]]\nport = 70000\n"),
            "config.toml:2: listeners[0].port: must be between 0 and 65535 (got 70000)");
  EXPECT_EQ(ErrorOf("[[listeners]]\ntype = \"udp\"\n"),
            "config.toml:2: listeners[0].type: must be one of tcp, tls, ws, wss (got \"udp\")");
  EXPECT_EQ(ErrorOf("[[listeners]]\nbind = \"localhost\"\n"),
            "config.toml:2: listeners[0].bind: must be an IPv4 or IPv6 address literal (got "
            "\"localhost\")");
  EXPECT_EQ(ErrorOf("[[listeners]]\nbind = \"[::1]\"\n"),
            "config.toml:2: listeners[0].bind: must be an IPv4 or IPv6 address literal without "
            "brackets (got \"[::1]\")");
  EXPECT_EQ(ErrorOf("[[listeners]]\nbind = \"::\"\nname = \"\"\n"),
            "config.toml:3: listeners[0].name: must not be empty");
  EXPECT_EQ(ErrorOf("listeners = []\n"),
            "config.toml:1: listeners: must list at least one listener");
  EXPECT_EQ(ErrorOf("listeners = [1]\n"),
            "config.toml:1: listeners[0]: expected a table, got an integer");
}

TEST(ParseConfigErrorTest, TwoListenersOnOneAddress) {
  EXPECT_EQ(ErrorOf("[[listeners]]\nbind = \"::1\"\n\n[[listeners]]\nbind = \"0:0::1\"\n"),
            "config.toml:4: listeners[1].port: 0:0::1:1883 is already used by listeners[0]");
  EXPECT_EQ(ErrorOf("[[listeners]]\nport = 1884\n[[listeners]]\ntype = \"ws\"\nport = 1884\n"),
            "config.toml:5: listeners[1].port: 0.0.0.0:1884 is already used by listeners[0]");
  // Port 0 picks a fresh port each time; different addresses do not collide.
  EXPECT_EQ(ErrorOf("[[listeners]]\nport = 0\n[[listeners]]\nport = 0\n"
                    "[[listeners]]\nbind = \"::\"\n"),
            "OK");
}

TEST(ParseConfigErrorTest, BadEnumString) {
  EXPECT_EQ(ErrorOf("[mqtt]\nshared_subscription_strategy = \"fastest\"\n"),
            "config.toml:2: mqtt.shared_subscription_strategy: must be one of round_robin, "
            "random, least_inflight (got \"fastest\")");
  EXPECT_EQ(ErrorOf("[queues]\noverflow_policy = \"drop\"\n"),
            "config.toml:2: queues.overflow_policy: must be one of drop_new, drop_oldest (got "
            "\"drop\")");
  EXPECT_EQ(ErrorOf("[log]\nlevel = \"verbose\"\n"),
            "config.toml:2: log.level: must be one of trace, debug, info, warn, error, off (got "
            "\"verbose\")");
  EXPECT_EQ(ErrorOf("[log]\nlevel = \"INFO\"\n"),
            "config.toml:2: log.level: must be one of trace, debug, info, warn, error, off (got "
            "\"INFO\")");
  EXPECT_EQ(ErrorOf("[queues]\noverflow_policy = 1\n"),
            "config.toml:2: queues.overflow_policy: expected a string, got an integer");
}

TEST(ParseConfigErrorTest, LowWatermarkMustBeBelowHigh) {
  EXPECT_EQ(ErrorOf("[backpressure]\nwrite_buffer_high_watermark = 1000\n"
                    "write_buffer_low_watermark = 1000\n"),
            "config.toml:3: backpressure.write_buffer_low_watermark: must be less than "
            "backpressure.write_buffer_high_watermark (1000)");
  EXPECT_EQ(ErrorOf("[backpressure]\nwrite_buffer_low_watermark = 8388608\n"),
            "config.toml:2: backpressure.write_buffer_low_watermark: must be less than "
            "backpressure.write_buffer_high_watermark (4194304)");
  // Only the high mark set, below the default low mark: the message names the default.
  EXPECT_EQ(ErrorOf("[backpressure]\nwrite_buffer_high_watermark = 65536\n"),
            "config.toml:2: backpressure.write_buffer_high_watermark: must be greater than "
            "backpressure.write_buffer_low_watermark (1048576)");
  EXPECT_EQ(ErrorOf("[backpressure]\nwrite_buffer_high_watermark = 1001\n"
                    "write_buffer_low_watermark = 1000\n"),
            "OK");
}

TEST(ParseConfigErrorTest, RedirectNeedsAServer) {
  EXPECT_EQ(ErrorOf("[redirect]\n\nenabled = true\n"),
            "config.toml:3: redirect.enabled: requires at least one server in redirect.servers");
  EXPECT_EQ(ErrorOf("[redirect]\nenabled = true\nservers = []\n"),
            "config.toml:2: redirect.enabled: requires at least one server in redirect.servers");
  EXPECT_EQ(ErrorOf("[redirect]\nenabled = true\nservers = [\"\"]\n"),
            "config.toml:3: redirect.servers[0]: must not be empty");
  EXPECT_EQ(ErrorOf("[redirect]\nservers = []\n"), "OK");
}

TEST(ParseConfigErrorTest, EmptyStrings) {
  EXPECT_EQ(ErrorOf("data_dir = \"\"\n"), "config.toml:1: data_dir: must not be empty");
}

TEST(ParseConfigErrorTest, SyntaxErrorHasLineAndColumn) {
  EXPECT_EQ(ErrorOf("workers = 1\n[mqtt\n"),
            "config.toml:2:6: Error while parsing table header: expected ']', saw '\\n'");
  EXPECT_THAT(ErrorOf("workers = 1\n\nworkers = 2\n"), StartsWith("config.toml:3:"));
  EXPECT_THAT(ErrorOf("[mqtt]\nmax_qos = \n"), StartsWith("config.toml:2:11: "));
}

TEST(ParseConfigErrorTest, EveryErrorIsReportedInLineOrder) {
  EXPECT_EQ(ErrorOf("[mqtt]\nmax_qos = 7\n[log]\nlevel = 1\n[[listeners]]\nport = -1\n"
                    "[queues]\nbogus = true\n"),
            "config.toml:2: mqtt.max_qos: must be between 0 and 2 (got 7)\n"
            "config.toml:4: log.level: expected a string, got an integer\n"
            "config.toml:6: listeners[0].port: must be between 0 and 65535 (got -1)\n"
            "config.toml:8: queues.bogus: unknown key");
}

TEST(ParseConfigErrorTest, MessageNamesTheSourceAsGiven) {
  absl::StatusOr<Config> config = ParseConfig("[sys]\ninterval = 5\n", "/etc/simq/simq.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(std::string(config.status().message()),
            "/etc/simq/simq.toml:2: sys.interval: unknown key (did you mean interval_seconds?)");
}

// Saves the environment variables ResolveConfigPath reads and restores them afterwards.
class ResolveConfigPathTest : public ::testing::Test {
 protected:
  static constexpr const char* kVariables[] = {"SI_CFG_PATH", "BUILD_WORKSPACE_DIRECTORY",
                                               "BUILD_WORKING_DIRECTORY"};

  void SetUp() override {
    for (const char* name : kVariables) {
      const char* value = std::getenv(name);
      saved_.emplace_back(name, value ? std::optional<std::string>(value) : std::nullopt);
      unsetenv(name);
    }
  }
  void TearDown() override {
    for (const auto& [name, value] : saved_) {
      if (value) {
        setenv(name.c_str(), value->c_str(), 1);
      } else {
        unsetenv(name.c_str());
      }
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

TEST_F(ResolveConfigPathTest, DefaultIsTheRepositoryFile) {
  EXPECT_EQ(ResolveConfigPath(std::nullopt), "config/config.toml");
}

TEST_F(ResolveConfigPathTest, BazelRunUsesTheWorkspace) {
  setenv("BUILD_WORKSPACE_DIRECTORY", "/home/me/simq", 1);
  EXPECT_EQ(ResolveConfigPath(std::nullopt), "/home/me/simq/config/config.toml");
}

TEST_F(ResolveConfigPathTest, EnvironmentOverridesTheDefault) {
  setenv("BUILD_WORKSPACE_DIRECTORY", "/home/me/simq", 1);
  setenv("SI_CFG_PATH", "/etc/simq/simq.toml", 1);
  EXPECT_EQ(ResolveConfigPath(std::nullopt), "/etc/simq/simq.toml");
  // An empty variable counts as unset.
  setenv("SI_CFG_PATH", "", 1);
  EXPECT_EQ(ResolveConfigPath(std::nullopt), "/home/me/simq/config/config.toml");
}

TEST_F(ResolveConfigPathTest, FlagOverridesEverything) {
  setenv("BUILD_WORKSPACE_DIRECTORY", "/home/me/simq", 1);
  setenv("SI_CFG_PATH", "/etc/simq/simq.toml", 1);
  EXPECT_EQ(ResolveConfigPath("/tmp/test.toml"), "/tmp/test.toml");
  EXPECT_EQ(ResolveConfigPath("test.toml"), "test.toml");
}

TEST_F(ResolveConfigPathTest, RelativePathsUnderBazelRunAreFromWhereTheUserTypedThem) {
  setenv("BUILD_WORKING_DIRECTORY", "/home/me/work", 1);
  EXPECT_EQ(ResolveConfigPath("test.toml"), "/home/me/work/test.toml");
  EXPECT_EQ(ResolveConfigPath("/tmp/test.toml"), "/tmp/test.toml");
  setenv("SI_CFG_PATH", "other.toml", 1);
  EXPECT_EQ(ResolveConfigPath(std::nullopt), "/home/me/work/other.toml");
}

TEST(ParseListenUrlTest, GoodUrls) {
  const std::pair<std::string_view, ListenerConfig> cases[] = {
      {"tcp://0.0.0.0:1883", {ListenerType::kTcp, "0.0.0.0", 1883, "tcp:1883"}},
      {"ws://127.0.0.1:8080", {ListenerType::kWs, "127.0.0.1", 8080, "ws:8080"}},
      {"tls://[::1]:8883", {ListenerType::kTls, "::1", 8883, "tls:8883"}},
      {"tls://[::]:8883", {ListenerType::kTls, "::", 8883, "tls:8883"}},
      {"wss://10.1.2.3:443", {ListenerType::kWss, "10.1.2.3", 443, "wss:443"}},
      {"tcp://127.0.0.1:0", {ListenerType::kTcp, "127.0.0.1", 0, "tcp:0"}},
      {"tcp://127.0.0.1:65535", {ListenerType::kTcp, "127.0.0.1", 65535, "tcp:65535"}},
  };
  for (const auto& [url, expected] : cases) {
    absl::StatusOr<ListenerConfig> listener = ParseListenUrl(url);
    ASSERT_TRUE(listener.ok()) << url << ": " << listener.status();
    EXPECT_EQ(*listener, expected) << url;
  }
}

TEST(ParseListenUrlTest, BadUrls) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"0.0.0.0:1883", "expected <scheme>://<address>:<port>"},
      {"udp://0.0.0.0:1883", "unknown scheme \"udp\" (expected tcp, tls, ws, wss)"},
      {"TCP://0.0.0.0:1883", "unknown scheme \"TCP\""},
      {"wss://h:443", "host \"h\" is not an IP address literal"},
      {"tcp://localhost:1883", "host \"localhost\" is not an IP address literal"},
      {"tcp://:1883", "host \"\" is not an IP address literal"},
      {"tcp://0.0.0.0", "missing port"},
      {"tcp://0.0.0.0:", "port \"\" is not a number between 0 and 65535"},
      {"tcp://0.0.0.0:65536", "port \"65536\" is not a number between 0 and 65535"},
      {"tcp://0.0.0.0:-1", "port \"-1\" is not a number"},
      {"tcp://0.0.0.0:18x3", "port \"18x3\" is not a number"},
      {"tcp://::1:1883", "an IPv6 address must be in brackets"},
      {"tcp://[::1]", "missing port"},
      {"tcp://[::1:1883", "missing ']'"},
      {"tcp://[1.2.3.4]:1883", "\"1.2.3.4\" is not an IPv6 address"},
      {"ws://0.0.0.0:8080/mqtt", "a path is not supported"},
  };
  for (const auto& [url, problem] : cases) {
    absl::StatusOr<ListenerConfig> listener = ParseListenUrl(url);
    ASSERT_FALSE(listener.ok()) << url;
    EXPECT_EQ(listener.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(listener.status().message()),
                StartsWith(fmt::format("invalid listener URL \"{}\": {}", url, problem)));
  }
}

TEST(LoadConfigFileTest, MissingFileIsNamed) {
  absl::StatusOr<Config> config = LoadConfigFile("/nonexistent/simq.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(std::string(config.status().message()),
            "cannot read /nonexistent/simq.toml: No such file or directory");
}

TEST(LoadConfigFileTest, DirectoryIsNotAFile) {
  const std::string tmp = ::testing::TempDir();
  absl::StatusOr<Config> config = LoadConfigFile(tmp);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(std::string(config.status().message()),
            fmt::format("cannot read {}: Is a directory", tmp));
}

TEST(LoadConfigFileTest, ReadsAFile) {
  const std::string tmp = ::testing::TempDir();  // ends with '/'
  const std::string path = tmp + "simq.toml";
  std::ofstream(path) << "workers = 3\n[mqtt]\nmax_qos = 1\n";
  absl::StatusOr<Config> config = LoadConfigFile(path);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->source, path);
  EXPECT_EQ(config->workers, 3u);
  EXPECT_EQ(config->mqtt.max_qos, 1);
  EXPECT_EQ(config->data_dir, tmp + "data");

  std::ofstream(path) << "workers = 3\n[mqtt]\nmax_qos = 5\n";
  config = LoadConfigFile(path);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(std::string(config.status().message()),
            fmt::format("{}:3: mqtt.max_qos: must be between 0 and 2 (got 5)", path));
}

TEST(LoadConfigFileTest, TheShippedDefaultConfigurationLoads) {
  absl::StatusOr<Config> config = LoadConfigFile("config/config.toml");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->listeners.size(), 1u);
  EXPECT_EQ(config->listeners[0],
            (ListenerConfig{ListenerType::kTcp, "0.0.0.0", 1883, "tcp:1883"}));
  // It shows the defaults; loading it must give the same broker as no file at all.
  Config defaults = Parsed("", "config/config.toml");
  EXPECT_EQ(*config, defaults);
}

TEST(LoadConfigFileTest, TheShippedFileShowsTheTrueDefaults) {
  // config/config.toml shows settings at their defaults as "# key = value". Uncommented, they
  // must all be known keys, and must not change anything.
  std::ifstream in("config/config.toml");
  ASSERT_TRUE(in) << "config/config.toml is not in the runfiles";
  std::string uncommented;
  std::string line;
  int settings = 0;
  while (std::getline(in, line)) {
    // "# key = value": "# " then a lowercase key then " = ".
    const size_t key_end = line.find_first_not_of("abcdefghijklmnopqrstuvwxyz_0123456789", 2);
    if (line.starts_with("# ") && key_end > 2 && key_end != std::string::npos &&
        line.compare(key_end, 3, " = ") == 0) {
      line.erase(0, 2);
      ++settings;
    }
    uncommented += line + "\n";
  }
  EXPECT_GE(settings, 37) << "the file no longer shows every key at its default";
  absl::StatusOr<Config> config = ParseConfig(uncommented, "config/config.toml");
  ASSERT_TRUE(config.ok()) << config.status() << "\n" << uncommented;
  EXPECT_EQ(*config, Parsed("", "config/config.toml"));
}

}  // namespace
}  // namespace simq::config

// The broker's configuration: an immutable, validated snapshot loaded from TOML.
//
//   absl::StatusOr<Config> config = LoadConfigFile("config/config.toml");
//   if (!config.ok()) {            // "config/config.toml:12: mqtt.receive_maximum: ..."
//     std::cerr << config.status().message() << "\n";
//     return 2;
//   }
//
// Every key, its default, its range and its meaning is documented in docs/config.md. Unknown
// keys and bad values are errors naming the file, the line and the dotted key, one per line:
//
//   config.toml:7: mqtt.recieve_maximum: unknown key (did you mean receive_maximum?)
//   config.toml:9: listeners[1].port: must be between 0 and 65535 (got 70000)
//   config.toml:3:14: <toml++ syntax error description>   (syntax errors carry the column)
//
// Durations are integer seconds or milliseconds as the key's name says; sizes are integer bytes.
// A Config is a value: build it once, then share it read-only (STYLE §22); nothing here keeps
// global state, and every function is safe to call from any thread except ResolveConfigPath,
// which reads the environment.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace simq::config {

enum class ListenerType { kTcp, kTls, kWs, kWss };

// "tcp", "tls", "ws", "wss": the spelling in config files, listener URLs and default names.
std::string_view ListenerTypeName(ListenerType type);

// Which field of a TLS client certificate becomes the MQTT user name (docs/security.md).
enum class CertificateIdentity { kNone, kCn, kSan };

// "none", "cn", "san".
std::string_view CertificateIdentityName(CertificateIdentity identity);

enum class TlsVersion { kTls12, kTls13 };

// "1.2", "1.3".
std::string_view TlsVersionName(TlsVersion version);

struct ListenerConfig {
  ListenerType type = ListenerType::kTcp;
  std::string bind = "0.0.0.0";  // address to bind, IPv4 or IPv6 literal
  uint16_t port = 1883;          // 0 picks a free port (tests)
  std::string name;              // for logs and metrics; ParseConfig fills in "<type>:<port>"

  // TLS (tls and wss listeners only). Relative paths resolve against the config file's
  // directory. The files are read at start and again on SIGHUP (Server::Reload).
  std::string cert_file;  // PEM: the server certificate, then its chain
  std::string key_file;   // PEM private key, unencrypted
  std::string ca_file;    // PEM CAs that sign client certificates; needed for client certificates
  bool require_client_cert = false;  // mTLS: refuse clients without a valid certificate
  // The certificate's CN or first subjectAltName as user name (needs require_client_cert).
  CertificateIdentity identity_as_username = CertificateIdentity::kNone;
  TlsVersion tls_min_version = TlsVersion::kTls12;
  std::string ws_path = "/mqtt";  // ws and wss: the HTTP path of the upgrade request
  bool proxy_protocol = false;    // expect a PROXY protocol v1 or v2 header first
  // Clients without credentials. ParseConfig's default: true unless auth.password_file is set.
  bool allow_anonymous = true;
  uint32_t max_connections_per_address = 0;  // per source IP on this listener; 0 = unlimited
  uint32_t connection_rate_per_second = 0;   // new connections per second; 0 = unlimited

  friend bool operator==(const ListenerConfig&, const ListenerConfig&) = default;
};

// How a share group ($share/<group>/<filter>) picks the member that gets a message.
enum class SharedSubscriptionStrategy { kRoundRobin, kRandom, kLeastInflight };

// "round_robin", "random", "least_inflight".
std::string_view SharedSubscriptionStrategyName(SharedSubscriptionStrategy strategy);

// What happens when a persistent session's offline queue is full.
enum class QueueOverflowPolicy {
  kDropNew,     // the new message is not queued (counted)
  kDropOldest,  // the oldest queued message is discarded (counted)
};

// "drop_new", "drop_oldest".
std::string_view QueueOverflowPolicyName(QueueOverflowPolicy policy);

struct MqttConfig {
  // Advertised in CONNACK (Maximum Packet Size); larger inbound packets → DISCONNECT 0x95.
  uint32_t max_packet_size = 268'435'460;
  // Tighter limit for the CONNECT packet and anything before it is accepted. Must not exceed
  // max_packet_size; when the file leaves it out it is min(65536, max_packet_size).
  uint32_t max_packet_size_before_connect = 65'536;
  // Server Receive Maximum advertised in CONNACK: inbound QoS 1/2 in flight per client.
  uint16_t receive_maximum = 1024;
  // Cap on outbound QoS 1/2 in flight per session (further capped by the client's Receive Maximum).
  uint16_t max_inflight_messages = 1024;
  uint8_t max_qos = 2;  // Maximum QoS (0..2); PUBLISH above it → 0x9B
  bool retain_available = true;
  bool wildcard_subscriptions = true;
  bool shared_subscriptions = true;
  bool subscription_identifiers = true;
  uint16_t topic_alias_maximum = 64;  // inbound aliases per connection; 0 disables
  // If non-zero, sent as Server Keep Alive and used instead of the client's keep alive.
  uint16_t server_keep_alive = 0;
  // Clients asking for a longer keep alive (or 0 = none) get this as Server Keep Alive. 0 = no cap.
  uint16_t max_keep_alive = 0;
  uint32_t connect_timeout_ms = 10'000;  // close connections that send no CONNECT in time
  // Longest Session Expiry Interval granted (seconds); 0xFFFFFFFF = never expire allowed.
  uint32_t max_session_expiry_interval = 0xFFFFFFFF;
  // At least 23: every server must accept client ids of 1..23 bytes [MQTT-3.1.3-5].
  uint16_t max_client_id_length = 65'535;    // MQTT 3.1 clients are always held to 23
  bool allow_empty_client_id = true;         // assign one (MQTT 5: Assigned Client Identifier)
  uint32_t max_connections = 0;              // 0 = unlimited
  uint32_t max_message_expiry_interval = 0;  // cap on Message Expiry Interval; 0 = no cap
  // Response Information sent in CONNACK to MQTT 5 clients that ask for it (Request Response
  // Information 1); "%c" is replaced by the client identifier. Empty: never sent.
  std::string response_information;
  SharedSubscriptionStrategy shared_subscription_strategy = SharedSubscriptionStrategy::kRoundRobin;

  friend bool operator==(const MqttConfig&, const MqttConfig&) = default;
};

struct QueueConfig {
  uint32_t max_queued_messages = 1000;      // per session; 0 = unlimited
  uint64_t max_queued_bytes = 64ull << 20;  // per session; 0 = unlimited
  bool queue_qos0 = false;                  // queue QoS 0 for offline persistent sessions
  QueueOverflowPolicy overflow_policy = QueueOverflowPolicy::kDropNew;

  friend bool operator==(const QueueConfig&, const QueueConfig&) = default;
};

struct RetainedConfig {
  uint64_t max_messages = 0;  // 0 = unlimited
  uint64_t max_bytes = 0;     // payload + topic bytes; 0 = unlimited

  friend bool operator==(const RetainedConfig&, const RetainedConfig&) = default;
};

// Per-connection output buffering and slow-consumer handling (DESIGN §3).
struct BackpressureConfig {
  uint64_t write_buffer_high_watermark = 4ull << 20;  // above: QoS 0 dropped, QoS 1/2 wait
  uint64_t write_buffer_low_watermark = 1ull << 20;   // below again: resume
  // A consumer continuously above the high watermark this long is disconnected. 0 = never.
  uint32_t slow_consumer_timeout_ms = 60'000;

  friend bool operator==(const BackpressureConfig&, const BackpressureConfig&) = default;
};

struct SysConfig {
  uint32_t interval_seconds = 10;  // $SYS publication period; 0 disables $SYS

  friend bool operator==(const SysConfig&, const SysConfig&) = default;
};

struct RedirectConfig {
  bool enabled = false;
  bool permanent = false;            // 0x9D Server moved, else 0x9C Use another server
  std::vector<std::string> servers;  // Server Reference values ("host:port")

  friend bool operator==(const RedirectConfig&, const RedirectConfig&) = default;
};

// Authentication and authorization files (docs/security.md). Reloaded on SIGHUP.
enum class AclPolicy { kDeny, kAllow };

// "deny", "allow".
std::string_view AclPolicyName(AclPolicy policy);

struct AuthConfig {
  std::string password_file;  // users and salted slow hashes (//broker/auth:passwd); "" = none
  std::string acl_file;       // topic access rules; "" = every client may do everything
  AclPolicy acl_default = AclPolicy::kDeny;  // what the ACL file decides where no rule matches
  // Failed authentications from one address: after `failed_auth_limit` within the window, its
  // CONNECTs are refused (0x8A Banned) for failed_auth_block_seconds. 0 disables.
  uint32_t failed_auth_limit = 10;
  uint32_t failed_auth_window_seconds = 60;
  uint32_t failed_auth_block_seconds = 60;

  friend bool operator==(const AuthConfig&, const AuthConfig&) = default;
};

// The durable store (docs/durability.md).
enum class StoreBackend { kRocksDb, kNone };
enum class Durability { kSync, kAsync };

// "rocksdb", "none"; "sync", "async".
std::string_view StoreBackendName(StoreBackend backend);
std::string_view DurabilityName(Durability durability);

struct StoreConfig {
  // rocksdb: sessions, queues, in-flight and retained messages in `data_dir`, surviving
  // restarts and kill -9. none: in memory only; everything is lost when the broker stops.
  StoreBackend backend = StoreBackend::kRocksDb;
  // sync: each group commit is fsynced before anything it holds is acknowledged (survives
  // power loss). async: written to the operating system only (survives a killed broker, not a
  // crashed machine).
  Durability durability = Durability::kSync;

  friend bool operator==(const StoreConfig&, const StoreConfig&) = default;
};

struct LogConfig {
  std::string level = "info";                 // trace, debug, info, warn, error, off
  std::vector<std::string> debug_client_ids;  // connection-level debug logs for these clients

  friend bool operator==(const LogConfig&, const LogConfig&) = default;
};

struct Config {
  std::string source;             // the file it was loaded from ("" for defaults)
  uint32_t workers = 0;           // event-loop threads; 0 = one per core
  std::string data_dir = "data";  // relative paths resolve against the config file's directory
  std::vector<ListenerConfig> listeners = {ListenerConfig{}};
  MqttConfig mqtt;
  QueueConfig queues;
  RetainedConfig retained;
  BackpressureConfig backpressure;
  SysConfig sys;
  RedirectConfig redirect;
  AuthConfig auth;
  StoreConfig store;
  LogConfig log;

  friend bool operator==(const Config&, const Config&) = default;
};

// Parses TOML text. `source` names the file in error messages, becomes Config::source, and its
// directory is where a relative data_dir resolves. All errors found are reported, sorted by
// line, one per line of the InvalidArgument status message.
absl::StatusOr<Config> ParseConfig(std::string_view toml, std::string source);
// Reads and parses a file; a missing or unreadable file is an error naming it
// ("cannot read <path>: <strerror>").
absl::StatusOr<Config> LoadConfigFile(const std::string& path);

// The configuration file to use: `flag_path` (--config) if set, else $SI_CFG_PATH if set and
// non-empty, else "config/config.toml" (under $BUILD_WORKSPACE_DIRECTORY when run by
// `bazel run`). Under `bazel run` the working directory is the runfiles tree, so a relative
// --config or $SI_CFG_PATH is taken relative to $BUILD_WORKING_DIRECTORY, where the user typed it.
std::string ResolveConfigPath(const std::optional<std::string>& flag_path);

// Parses a listener URL from --listen: "tcp://0.0.0.0:1883", "ws://127.0.0.1:8080",
// "tls://[::]:8883", "wss://10.0.0.1:443". The host is an IP literal (IPv6 in brackets), the
// port is required (0 picks a free one) and there is no path; the name is "<type>:<port>".
absl::StatusOr<ListenerConfig> ParseListenUrl(std::string_view url);

}  // namespace simq::config

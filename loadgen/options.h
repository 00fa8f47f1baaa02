// The load generator's command line, parsed into `Options` with every combination checked
// before a connection is opened. `loadgen --help` prints kUsage.
//
//   absl::StatusOr<Options> o = ParseOptions({"fanin", "--pubs", "10", "--qos", "1"});
//
// Scenario defaults (overridable):
//   fanin   --pubs 10 --subs 1   each publisher on its own topic, one wildcard subscriber
//   fanout  --pubs 1  --subs 100 one topic, every subscriber gets every message
//   pairs   --pubs 50            publisher i → topic i → subscriber i (--subs = --pubs)
//   shared  --pubs 10 --subs 5   publishers → one `$share/<group>/…` subscription
//   pub     --pubs 1             publishers only (to --topic); pace with --rate or open loop
//   sub     --subs 1             subscribers only (to --filter); checks what arrives
//   conn    --conns 1000         connections that connect and stay idle; measures connect rate
//   sink    --listen ADDR        a trivial MQTT server to measure the load generator itself
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace simq::loadgen {

enum class Scenario { kFanIn, kFanOut, kPairs, kShared, kPub, kSub, kConn, kSink };

std::string_view ScenarioName(Scenario s);

struct HostPort {
  std::string host;  // an IPv4 or IPv6 literal, or a name resolved once at start
  uint16_t port = 1883;
  std::string ToString() const;
  friend bool operator==(const HostPort&, const HostPort&) = default;
};

struct Options {
  Scenario scenario = Scenario::kFanIn;
  std::vector<HostPort> hosts = {{"127.0.0.1", 1883}};

  int pubs = 0;  // 0: the scenario's default
  int subs = 0;
  int conns = 0;                  // conn mode
  int connect_concurrency = 256;  // conn mode: CONNECTs awaiting CONNACK at once
  int qos = 0;
  int mqtt = 4;              // protocol level: 4 = 3.1.1, 5 = 5.0
  bool topic_alias = false;  // MQTT 5: publishers use a topic alias, subscribers accept them
  int payload = 16;          // bytes, >= kStampSize
  double rate = 0;           // messages/s per publisher; 0 = not rate-paced
  int window = 0;            // in-flight messages per publisher; 0 = unlimited (open loop)
  double duration = 5;       // seconds of publishing (conn: of holding the connections)
  double warmup = 0;         // seconds at the start excluded from rates and latency
  double drain = 3;          // seconds to wait for outstanding acks and deliveries at the end
  int threads = 1;
  int keepalive = 60;          // seconds
  bool persistent = false;     // CONNECT with Clean Start (Clean Session) 0
  int64_t session_expiry = 0;  // MQTT 5 Session Expiry Interval, seconds
  std::string topic;           // topic prefix; default "lg/<run id>"
  std::string filter;          // sub mode: the filter; default "<topic>/#"
  std::string group = "lg";    // shared: the share name
  int subscriptions = 0;       // pairs: total distinct wildcard filters (spread over subscribers)
  int slow_subs = 0;           // extra subscribers that read slowly (fanin/fanout)
  int64_t slow_rate = 1'000'000;  // bytes/s each slow subscriber reads
  int probes = 0;                 // PINGREQ probe connections measuring the broker's loop stalls
  bool sys_stats = false;  // read $SYS/broker/publish/messages/{dropped,sent} before and after
  int broker_pid = 0;      // local broker process to measure: CPU over the measured interval, RSS
  std::string client_prefix = "lg";
  std::string clock = "monotonic";  // or "realtime" (publishers and subscribers on two machines)
  std::string json_path;            // summary file; default stdout
  std::string ready_file;           // conn mode: created once every connection is up
  bool check = false;  // exit 3 unless zero loss, zero errors (and no QoS 2 duplicates)
  bool quiet = false;  // no per-second progress lines
  std::string listen = "127.0.0.1:1885";  // sink mode
};

// `args` excludes argv[0]. The first argument is the scenario or mode.
absl::StatusOr<Options> ParseOptions(const std::vector<std::string>& args);

// "a:1883,[::1]:1884,b" (port 1883 when omitted).
absl::StatusOr<std::vector<HostPort>> ParseHosts(std::string_view spec);

extern const char kUsage[];

}  // namespace simq::loadgen

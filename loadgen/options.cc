#include "loadgen/options.h"

#include <charconv>
#include <cmath>
#include <functional>
#include <map>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

#include "loadgen/stamp.h"
#include "loadgen/strcat.h"

namespace simq::loadgen {

const char kUsage[] = R"(usage: loadgen SCENARIO [options]

Scenarios and modes:
  fanin    P publishers (own topic each) -> 1 wildcard subscriber    (--pubs 10 --subs 1)
  fanout   1 publisher -> S subscribers of the same topic              (--pubs 1 --subs 100)
  pairs    N publishers, publisher i -> subscriber i                   (--pubs 50)
  shared   P publishers -> a $share group of S members                 (--pubs 10 --subs 5)
  pub      publishers only, to --topic (pace with --rate, or open loop)
  sub      subscribers only, to --filter; checks stamped messages that arrive
  conn     --conns N connections that connect and stay idle for --duration
  sink     a trivial MQTT server on --listen that acknowledges and forwards QoS 0 copies
           (measures the load generator's own ceiling)

Options:
  --host H:P[,H:P...]     brokers; publishers start at the first, subscribers at the second
                          (round-robin), so with two nodes every message crosses the cluster
  --pubs N --subs N       client counts (scenario defaults above)
  --qos 0|1|2             QoS of publishes and subscriptions
  --mqtt 3.1.1|5          protocol version (default 3.1.1)
  --topic-alias           MQTT 5: publishers send a topic alias, subscribers accept aliases
  --payload BYTES         payload size, >= 16 (default 16)
  --rate R                messages/s per publisher (0 = unpaced)
  --window N              in-flight messages per publisher (QoS 1/2: unacknowledged; QoS 0:
                          not yet received by every subscriber); 0 = open loop
  --duration S            seconds of publishing (conn: seconds to hold the connections)
  --warmup S              seconds at the start left out of rates and latency
  --drain S               seconds to wait at the end for acks and deliveries (default 3)
  --threads N             event-loop threads (default 1)
  --keepalive S           MQTT keep alive (default 60)
  --persistent            CONNECT with Clean Start 0 (3.1.1: Clean Session 0): persistent
                          sessions, so a broker with a store persists their QoS 1/2 state
  --session-expiry S      MQTT 5 Session Expiry Interval in seconds (default 0)
  --topic PREFIX          topic prefix (default lg/<run id>)
  --filter F              sub mode: topic filter (default <topic>/#)
  --group NAME            shared: share name (default lg)
  --subscriptions N       pairs: N distinct wildcard-heavy filters in total, each subscriber's
                          share covering its publisher's topics (routing-table load)
  --slow-subs N           fanin/fanout: N extra subscribers reading only --slow-rate bytes/s
  --slow-rate B           bytes/s per slow subscriber (default 1000000)
  --probes N              connections sending PINGREQ every 10 ms: the broker's loop stalls
  --sys-stats             read $SYS/broker/publish/messages/{dropped,sent} before and after
  --broker-pid PID        a broker on this machine: its CPU time over the measured interval
                          (/proc/PID/stat utime+stime), CPU per delivery, and its memory (VmRSS
                          before, sampled every 100 ms, at the end; VmHWM) go into the summary;
                          conn mode: RSS growth per connection
  --conns N               conn: number of connections (default 1000)
  --connect-concurrency N conn: CONNECTs outstanding at once (default 256)
  --client-prefix P       client identifier prefix (default lg)
  --clock monotonic|realtime   stamp clock (realtime across machines)
  --json PATH             write the JSON summary there (default: stdout)
  --ready-file PATH       conn: created once every connection is up
  --check                 exit status 3 unless zero loss and zero errors
  --quiet                 no progress lines
  --listen H:P            sink: address to listen on (default 127.0.0.1:1885)
)";

std::string_view ScenarioName(Scenario s) {
  switch (s) {
    case Scenario::kFanIn: return "fanin";
    case Scenario::kFanOut: return "fanout";
    case Scenario::kPairs: return "pairs";
    case Scenario::kShared: return "shared";
    case Scenario::kPub: return "pub";
    case Scenario::kSub: return "sub";
    case Scenario::kConn: return "conn";
    case Scenario::kSink: return "sink";
  }
  return "?";
}

std::string HostPort::ToString() const {
  if (host.find(':') != std::string::npos) return Cat("[", host, "]:", port);
  return Cat(host, ":", port);
}

namespace {

absl::Status Bad(std::string_view flag, std::string_view why) {
  return absl::InvalidArgumentError(Cat(flag, ": ", why));
}

absl::StatusOr<HostPort> ParseHostPort(std::string_view s) {
  HostPort hp;
  std::string_view host = s, port;
  if (s.starts_with("[")) {
    const size_t close = s.find(']');
    if (close == std::string_view::npos) return Bad(s, "unclosed '['");
    host = s.substr(1, close - 1);
    std::string_view rest = s.substr(close + 1);
    if (!rest.empty()) {
      if (!rest.starts_with(":")) return Bad(s, "expected ':' after ']'");
      port = rest.substr(1);
    }
  } else if (const size_t colon = s.rfind(':'); colon != std::string_view::npos) {
    if (s.find(':') != colon) return Bad(s, "IPv6 addresses go in brackets: [::1]:1883");
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
  }
  if (host.empty()) return Bad(s, "empty host");
  hp.host = std::string(host);
  if (!port.empty()) {
    uint32_t p = 0;
    if (!absl::SimpleAtoi(Av(port), &p) || p == 0 || p > 65535) return Bad(s, "bad port");
    hp.port = static_cast<uint16_t>(p);
  }
  return hp;
}

}  // namespace

absl::StatusOr<std::vector<HostPort>> ParseHosts(std::string_view spec) {
  std::vector<HostPort> hosts;
  for (absl::string_view part : absl::StrSplit(Av(spec), ',', absl::SkipEmpty())) {
    absl::StatusOr<HostPort> hp = ParseHostPort(std::string_view(part.data(), part.size()));
    if (!hp.ok()) return hp.status();
    hosts.push_back(*std::move(hp));
  }
  if (hosts.empty()) return Bad("--host", "no host given");
  return hosts;
}

absl::StatusOr<Options> ParseOptions(const std::vector<std::string>& args) {
  Options o;
  if (args.empty()) return absl::InvalidArgumentError("no scenario given (try --help)");
  static const std::map<std::string, Scenario, std::less<>> kScenarios = {
      {"fanin", Scenario::kFanIn},   {"fanout", Scenario::kFanOut}, {"pairs", Scenario::kPairs},
      {"shared", Scenario::kShared}, {"pub", Scenario::kPub},       {"sub", Scenario::kSub},
      {"conn", Scenario::kConn},     {"sink", Scenario::kSink}};
  auto scenario = kScenarios.find(args[0]);
  if (scenario == kScenarios.end()) {
    return absl::InvalidArgumentError(Cat("unknown scenario '", args[0],
                                          "' (fanin, fanout, pairs, shared, pub, sub, "
                                          "conn, sink)"));
  }
  o.scenario = scenario->second;

  auto int_flag = [](int* out, int64_t lo, int64_t hi) {
    return [out, lo, hi](std::string_view flag, std::string_view v) -> absl::Status {
      int64_t x = 0;
      if (!absl::SimpleAtoi(Av(v), &x)) return Bad(flag, Cat("not an integer: ", v));
      if (x < lo || x > hi) return Bad(flag, Cat("must be between ", lo, " and ", hi));
      *out = static_cast<int>(x);
      return absl::OkStatus();
    };
  };
  auto double_flag = [](double* out, double lo, double hi) {
    return [out, lo, hi](std::string_view flag, std::string_view v) -> absl::Status {
      double x = 0;
      if (!absl::SimpleAtod(Av(v), &x) || !std::isfinite(x)) {
        return Bad(flag, Cat("not a number: ", v));
      }
      if (x < lo || x > hi) return Bad(flag, Cat("must be between ", lo, " and ", hi));
      *out = x;
      return absl::OkStatus();
    };
  };
  auto string_flag = [](std::string* out) {
    return [out](std::string_view flag, std::string_view v) -> absl::Status {
      if (v.empty()) return Bad(flag, "must not be empty");
      *out = std::string(v);
      return absl::OkStatus();
    };
  };
  using Setter = std::function<absl::Status(std::string_view, std::string_view)>;
  const std::map<std::string, Setter, std::less<>> valued = {
      {"--host",
       [&](std::string_view, std::string_view v) -> absl::Status {
         absl::StatusOr<std::vector<HostPort>> h = ParseHosts(v);
         if (!h.ok()) return h.status();
         o.hosts = *std::move(h);
         return absl::OkStatus();
       }},
      {"--pubs", int_flag(&o.pubs, 1, 1'000'000)},
      {"--subs", int_flag(&o.subs, 1, 1'000'000)},
      {"--conns", int_flag(&o.conns, 1, 10'000'000)},
      {"--connect-concurrency", int_flag(&o.connect_concurrency, 1, 1'000'000)},
      {"--qos", int_flag(&o.qos, 0, 2)},
      {"--mqtt",
       [&](std::string_view flag, std::string_view v) -> absl::Status {
         if (v == "3.1.1" || v == "4") {
           o.mqtt = 4;
         } else if (v == "5" || v == "5.0") {
           o.mqtt = 5;
         } else {
           return Bad(flag, "must be 3.1.1 or 5");
         }
         return absl::OkStatus();
       }},
      {"--payload", int_flag(&o.payload, static_cast<int64_t>(kStampSize), 16 << 20)},
      {"--rate", double_flag(&o.rate, 0, 1e9)},
      {"--window", int_flag(&o.window, 0, 1'000'000)},
      {"--duration", double_flag(&o.duration, 0, 1e6)},
      {"--warmup", double_flag(&o.warmup, 0, 1e6)},
      {"--drain", double_flag(&o.drain, 0, 3600)},
      {"--threads", int_flag(&o.threads, 1, 256)},
      {"--keepalive", int_flag(&o.keepalive, 0, 65535)},
      {"--session-expiry",
       [&](std::string_view flag, std::string_view v) -> absl::Status {
         if (!absl::SimpleAtoi(Av(v), &o.session_expiry) || o.session_expiry < 0 ||
             o.session_expiry > 0xFFFFFFFFll) {
           return Bad(flag, "must be between 0 and 4294967295 (seconds)");
         }
         return absl::OkStatus();
       }},
      {"--topic", string_flag(&o.topic)},
      {"--filter", string_flag(&o.filter)},
      {"--group", string_flag(&o.group)},
      {"--subscriptions", int_flag(&o.subscriptions, 0, 100'000'000)},
      {"--slow-subs", int_flag(&o.slow_subs, 0, 100'000)},
      {"--slow-rate",
       [&](std::string_view flag, std::string_view v) -> absl::Status {
         if (!absl::SimpleAtoi(Av(v), &o.slow_rate) || o.slow_rate < 1) {
           return Bad(flag, "must be a positive integer (bytes/s)");
         }
         return absl::OkStatus();
       }},
      {"--probes", int_flag(&o.probes, 0, 1000)},
      {"--broker-pid", int_flag(&o.broker_pid, 1, 1 << 30)},
      {"--client-prefix", string_flag(&o.client_prefix)},
      {"--clock",
       [&](std::string_view flag, std::string_view v) -> absl::Status {
         if (v != "monotonic" && v != "realtime") return Bad(flag, "monotonic or realtime");
         o.clock = std::string(v);
         return absl::OkStatus();
       }},
      {"--json", string_flag(&o.json_path)},
      {"--ready-file", string_flag(&o.ready_file)},
      {"--listen", string_flag(&o.listen)},
  };
  const std::map<std::string, bool*, std::less<>> switches = {
      {"--topic-alias", &o.topic_alias},
      {"--persistent", &o.persistent},
      {"--sys-stats", &o.sys_stats},
      {"--check", &o.check},
      {"--quiet", &o.quiet},
  };

  for (size_t i = 1; i < args.size(); ++i) {
    std::string_view arg = args[i], value;
    bool has_value = false;
    if (size_t eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    if (auto sw = switches.find(arg); sw != switches.end()) {
      if (has_value) return Bad(arg, "takes no value");
      *sw->second = true;
      continue;
    }
    auto setter = valued.find(arg);
    if (setter == valued.end()) {
      return absl::InvalidArgumentError(Cat("unknown option '", arg, "' (try --help)"));
    }
    if (!has_value) {
      if (i + 1 >= args.size()) return Bad(arg, "needs a value");
      value = args[++i];
    }
    if (absl::Status s = setter->second(arg, value); !s.ok()) return s;
  }

  // Scenario defaults and consistency.
  switch (o.scenario) {
    case Scenario::kFanIn:
      if (o.pubs == 0) o.pubs = 10;
      if (o.subs == 0) o.subs = 1;
      break;
    case Scenario::kFanOut:
      if (o.pubs == 0) o.pubs = 1;
      if (o.subs == 0) o.subs = 100;
      break;
    case Scenario::kPairs:
      if (o.pubs == 0) o.pubs = o.subs != 0 ? o.subs : 50;
      if (o.subs == 0) o.subs = o.pubs;
      if (o.subs != o.pubs) return Bad("--subs", "pairs has as many subscribers as publishers");
      if (o.subscriptions != 0 && o.subscriptions < o.subs) {
        return Bad("--subscriptions", "needs at least one filter per subscriber");
      }
      break;
    case Scenario::kShared:
      if (o.pubs == 0) o.pubs = 10;
      if (o.subs == 0) o.subs = 5;
      break;
    case Scenario::kPub:
      if (o.pubs == 0) o.pubs = 1;
      if (o.subs != 0) return Bad("--subs", "pub mode has no subscribers (run sub mode beside it)");
      if (o.qos == 0 && o.window != 0) {
        return Bad("--window", "QoS 0 in-flight needs the subscribers in this process; use --rate");
      }
      break;
    case Scenario::kSub:
      if (o.subs == 0) o.subs = 1;
      if (o.pubs != 0) return Bad("--pubs", "sub mode has no publishers (run pub mode beside it)");
      break;
    case Scenario::kConn:
      if (o.conns == 0) o.conns = 1000;
      break;
    case Scenario::kSink: break;
  }
  if (o.subscriptions != 0 && o.scenario != Scenario::kPairs) {
    return Bad("--subscriptions", "only for pairs");
  }
  if (o.slow_subs != 0 && o.scenario != Scenario::kFanIn && o.scenario != Scenario::kFanOut) {
    return Bad("--slow-subs", "only for fanin and fanout");
  }
  if (o.topic_alias && o.mqtt != 5) return Bad("--topic-alias", "needs --mqtt 5");
  if (o.session_expiry != 0 && o.mqtt != 5) return Bad("--session-expiry", "needs --mqtt 5");
  if (o.warmup >= o.duration && o.duration > 0 && o.scenario != Scenario::kConn) {
    return Bad("--warmup", "must be shorter than --duration");
  }
  if (o.pubs >= static_cast<int>(kMaxPublishers)) return Bad("--pubs", "too many");
  return o;
}

}  // namespace simq::loadgen

#include "loadgen/report.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include "loadgen/strcat.h"

namespace simq::loadgen {
namespace {

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string Num(double v) {
  if (!std::isfinite(v)) return "null";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return absl::StrFormat("%.0f", v);
  return absl::StrFormat("%.6g", v);
}

std::string LatencyJson(const Histogram& h) {
  auto us = [](uint64_t ns) { return Num(std::round(static_cast<double>(ns) / 10.0) / 100.0); };
  return Cat("{\"count\": ", h.count(), ", \"mean\": ", Num(std::round(h.mean() / 10) / 100),
             ", \"p50\": ", us(h.Percentile(50)), ", \"p90\": ", us(h.Percentile(90)),
             ", \"p99\": ", us(h.Percentile(99)), ", \"p999\": ", us(h.Percentile(99.9)),
             ", \"max\": ", us(h.max()), "}");
}

std::string Duration(uint64_t ns) {
  if (ns < 1'000'000) return absl::StrFormat("%.0fus", ns / 1e3);
  if (ns < 1'000'000'000) return absl::StrFormat("%.1fms", ns / 1e6);
  return absl::StrFormat("%.2fs", ns / 1e9);
}

}  // namespace

std::string Si(double v) {
  if (v >= 1e9) return absl::StrFormat("%.2fG", v / 1e9);
  if (v >= 1e6) return absl::StrFormat("%.2fM", v / 1e6);
  if (v >= 1e3) return absl::StrFormat("%.1fk", v / 1e3);
  return absl::StrFormat("%.0f", v);
}

void Judge(Summary* s) {
  auto& f = s->failures;
  if (s->loss) f.push_back(Cat("loss: ", s->loss, " messages never arrived"));
  if (s->errors) f.push_back(Cat("errors: ", s->errors));
  if (s->options.qos == 2 && s->duplicates) {
    f.push_back(Cat("duplicates at QoS 2: ", s->duplicates));
  }
  if (s->silent_drops) {
    f.push_back(Cat("silent drops: ", s->silent_drops, " acknowledged messages never delivered"));
  }
  if (s->connect_failed) f.push_back(Cat("connections failed: ", s->connect_failed));
}

std::string ToJson(const Summary& s) {
  const Options& o = s.options;
  const double m = s.measured_s > 0 ? s.measured_s : 1;
  std::string hosts;
  for (const HostPort& h : o.hosts) hosts += Cat(hosts.empty() ? "" : ", ", Quote(h.ToString()));
  std::string j = "{\n";
  auto field = [&](std::string_view key, const std::string& value) {
    j += Cat("  ", Quote(key), ": ", value, ",\n");
  };
  field("scenario", Quote(ScenarioName(o.scenario)));
  field("run_id", Quote(s.run_id));
  field("hosts", Cat("[", hosts, "]"));
  field("qos", Num(o.qos));
  field("mqtt", Quote(o.mqtt == 5 ? "5" : "3.1.1"));
  field("topic_alias", o.topic_alias ? "true" : "false");
  field("payload", Num(o.payload));
  field("pubs", Num(o.pubs));
  field("subs", Num(o.subs));
  field("threads", Num(o.threads));
  field("window", Num(o.window));
  field("window_effective", Num(s.window_effective));
  field("rate", Num(o.rate));
  field("duration_s", Num(o.duration));
  field("warmup_s", Num(o.warmup));
  field("measured_s", Num(s.measured_s));
  field("sent", Num(static_cast<double>(s.sent)));
  field("sent_per_s", Num(std::round(s.sent_measured / m)));
  field("acked", Num(static_cast<double>(s.acked)));
  field("received", Num(static_cast<double>(s.received)));
  field("received_per_s", Num(std::round(s.received_measured / m)));
  field("expected", Num(static_cast<double>(s.expected)));
  field("loss", Num(static_cast<double>(s.loss)));
  field("duplicates", Num(static_cast<double>(s.duplicates)));
  field("reorders", Num(static_cast<double>(s.reorders)));
  field("errors", Num(static_cast<double>(s.errors)));
  field("silent_drops", Num(static_cast<double>(s.silent_drops)));
  field("foreign", Num(static_cast<double>(s.foreign)));
  field("tracking_degraded", s.tracking_degraded ? "true" : "false");
  if (o.scenario != Scenario::kConn) field("latency_us", LatencyJson(s.latency));
  if (s.probe.count()) field("probe_us", LatencyJson(s.probe));
  if (o.scenario == Scenario::kConn) {
    const double rate = s.connect_elapsed_s > 0 ? s.connections / s.connect_elapsed_s : 0;
    field("connect", Cat("{\"connections\": ", s.connections, ", \"failed\": ", s.connect_failed,
                         ", \"elapsed_s\": ", Num(s.connect_elapsed_s),
                         ", \"rate_per_s\": ", Num(std::round(rate)),
                         ", \"latency_us\": ", LatencyJson(s.connect_latency), "}"));
  }
  if (!s.per_subscriber.empty()) {
    const auto [lo, hi] = std::minmax_element(s.per_subscriber.begin(), s.per_subscriber.end());
    double mean = 0;
    for (uint64_t v : s.per_subscriber) mean += static_cast<double>(v);
    mean /= static_cast<double>(s.per_subscriber.size());
    const double spread = mean > 0 ? static_cast<double>(*hi - *lo) / mean : 0;
    field("subscribers", Cat("{\"min\": ", *lo, ", \"max\": ", *hi,
                             ", \"spread\": ", Num(std::round(spread * 1e4) / 1e4), "}"));
  }
  if (o.slow_subs) {
    field("slow", Cat("{\"received\": ", s.slow_received, ", \"loss\": ", s.slow_loss,
                      ", \"disconnected\": ", s.slow_disconnected, "}"));
  }
  if (!s.sys.empty()) {
    std::string sys = "{";
    bool first_host = true;
    for (const auto& [host, v] : s.sys) {
      sys += Cat(first_host ? "" : ", ", Quote(host), ": {");
      first_host = false;
      bool first = true;
      std::map<std::string, int> keys;
      for (const auto& [k, _] : v.start) keys[k];
      for (const auto& [k, _] : v.end) keys[k];
      for (const auto& [k, _] : keys) {
        auto a = v.start.find(k), b = v.end.find(k);
        sys +=
            Cat(first ? "" : ", ", Quote(k), ": [", a == v.start.end() ? "null" : Quote(a->second),
                ", ", b == v.end.end() ? "null" : Quote(b->second), "]");
        first = false;
      }
      sys += "}";
    }
    field("sys", sys + "}");
  }
  field("loadgen_cpu_s", Num(std::round(s.loadgen_cpu_s * 1000) / 1000));
  const uint64_t work = std::max(s.sent, s.received);
  field(
      "loadgen_cpu_per_msg_us",
      Num(work ? std::round(s.loadgen_cpu_s * 1e6 / static_cast<double>(work) * 1000) / 1000 : 0));
  if (s.broker_measured) {
    const uint64_t deliveries = s.received_measured != 0 ? s.received_measured : s.sent_measured;
    std::string b = Cat(
        "{\"pid\": ", o.broker_pid, ", \"cpu_s\": ", Num(std::round(s.broker_cpu_s * 1000) / 1000),
        ", \"cpu_per_delivery_us\": ",
        Num(deliveries
                ? std::round(s.broker_cpu_s * 1e6 / static_cast<double>(deliveries) * 1000) / 1000
                : 0),
        ", \"rss_start_kb\": ", s.broker_rss_start_kb, ", \"rss_max_kb\": ", s.broker_rss_max_kb,
        ", \"rss_end_kb\": ", s.broker_rss_end_kb, ", \"hwm_kb\": ", s.broker_hwm_kb);
    if (o.scenario == Scenario::kConn && s.connections != 0) {
      const double grown =
          static_cast<double>(s.broker_rss_end_kb) - static_cast<double>(s.broker_rss_start_kb);
      b += Cat(", \"rss_per_connection_bytes\": ",
               Num(std::round(grown * 1024 / static_cast<double>(s.connections))));
    }
    field("broker", b + "}");
  }
  if (o.rate > 0) field("pacing_lag_max_us", Num(std::round(s.pacing_lag_max_ns / 1e3)));
  std::string samples;
  for (const std::string& e : s.error_samples)
    samples += Cat(samples.empty() ? "" : ", ", Quote(e));
  field("error_samples", Cat("[", samples, "]"));
  if (s.failures.empty()) {
    j += Cat("  \"verdict\": \"ok\"\n}\n");
  } else {
    std::string f;
    for (const std::string& e : s.failures) f += Cat(f.empty() ? "" : ", ", Quote(e));
    j += Cat("  \"verdict\": [", f, "]\n}\n");
  }
  return j;
}

std::string ProgressLine(const Progress& p) {
  std::string line = absl::StrFormat("[%6.1fs] sent %7s/s recv %7s/s", p.t, Si(p.sent_per_s),
                                     Si(p.received_per_s));
  if (p.connections) line += Cat(" conns ", p.connections);
  if (p.latency && p.latency->count()) {
    line += Cat(" p50 ", Duration(p.latency->Percentile(50)), " p99 ",
                Duration(p.latency->Percentile(99)), " max ", Duration(p.latency->max()));
  }
  if (p.probe && p.probe->count()) line += Cat(" probe-max ", Duration(p.probe->max()));
  line += Cat(" err ", p.errors);
  return line;
}

}  // namespace simq::loadgen

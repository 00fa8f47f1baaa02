// What a load-generator run measured, and its two renderings: one progress line per second
// (stderr) and the final machine-readable JSON summary (stdout or --json).
//
// JSON fields (all counts are messages unless named otherwise):
//   scenario, qos, mqtt, payload, pubs, subs, threads, window, rate, duration_s, hosts[]
//   measured_s            seconds between the end of warm-up and the end of publishing
//   sent, sent_per_s      PUBLISHes sent (sent_per_s over the measured interval)
//   acked                 QoS 1/2: PUBACK / PUBCOMP received
//   received, received_per_s   deliveries to the (non-slow) subscribers
//   expected              deliveries the subscriptions called for
//   loss, duplicates, reorders, errors
//   silent_drops          messages the broker acknowledged that no subscriber received
//   latency_us            {count, mean, p50, p90, p99, p999, max} from the payload stamp
//   probe_us              PINGREQ → PINGRESP round trips (the broker's loop stalls), if probed
//   connect               conn mode: {connections, failed, elapsed_s, rate_per_s, latency_us}
//   subscribers           {min, max, spread}: deliveries per subscriber; spread=(max−min)/mean
//   slow                  slow subscribers: {received, loss, disconnected}
//   sys                   --sys-stats: per host, $SYS values at start and end
//   loadgen_cpu_s, loadgen_cpu_per_msg_us   the load generator's own CPU time
//   broker                --broker-pid: {pid, cpu_s, cpu_per_delivery_us, rss_start_kb,
//                         rss_max_kb, rss_end_kb, hwm_kb}; conn mode adds
//                         rss_per_connection_bytes = (rss_end − rss_start) ÷ connections.
//                         cpu_per_delivery_us = cpu_s ÷ deliveries in the measured interval
//                         (messages sent when there are no subscribers).
//   pacing_lag_max_us     rate pacing: how late the latest message left
//   verdict               "ok" or the list of failed checks; error_samples: first errors seen
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "loadgen/histogram.h"
#include "loadgen/options.h"

namespace simq::loadgen {

struct SysValues {
  std::map<std::string, std::string> start;
  std::map<std::string, std::string> end;
};

struct Summary {
  Options options;
  std::string run_id;
  double measured_s = 0;
  uint64_t sent = 0, sent_measured = 0;
  uint64_t acked = 0;
  uint64_t received = 0, received_measured = 0;
  uint64_t expected = 0;
  uint64_t loss = 0, duplicates = 0, reorders = 0, errors = 0, silent_drops = 0;
  uint64_t foreign = 0;  // messages without a loadgen stamp, or from an unknown publisher
  bool tracking_degraded = false;
  Histogram latency;
  Histogram probe;
  // conn mode
  uint64_t connections = 0, connect_failed = 0;
  double connect_elapsed_s = 0;
  Histogram connect_latency;
  // per-subscriber deliveries (non-slow)
  std::vector<uint64_t> per_subscriber;
  uint64_t slow_received = 0, slow_loss = 0, slow_disconnected = 0;
  std::map<std::string, SysValues> sys;  // by host
  double loadgen_cpu_s = 0;
  // --broker-pid: CPU over the measured interval (conn: from the first connect to the end of
  // the hold), resident memory before the run, its maximum and last sample, and VmHWM.
  bool broker_measured = false;
  double broker_cpu_s = 0;
  uint64_t broker_rss_start_kb = 0, broker_rss_max_kb = 0, broker_rss_end_kb = 0;
  uint64_t broker_hwm_kb = 0;
  uint64_t pacing_lag_max_ns = 0;
  int window_effective = 0;  // after the server's Receive Maximum
  std::vector<std::string> error_samples;
  std::vector<std::string> failures;  // failed checks; empty = ok
};

// Fills `failures` from the counts: loss, errors, QoS 2 duplicates, silent drops, connection
// failures. Slow subscribers may lose QoS 0 messages (counted, not failed).
void Judge(Summary* s);

std::string ToJson(const Summary& s);

// One line: "[  3.0s] sent 1.52M/s recv 1.50M/s p50 120us p99 900us max 2.1ms err 0".
struct Progress {
  double t = 0;
  double sent_per_s = 0, received_per_s = 0;
  uint64_t connections = 0;
  uint64_t errors = 0;
  const Histogram* latency = nullptr;  // this interval's
  const Histogram* probe = nullptr;
};
std::string ProgressLine(const Progress& p);

// "1.52M", "15.2k", "152"
std::string Si(double v);

}  // namespace simq::loadgen

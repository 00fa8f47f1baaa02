// Another local process's CPU time and memory, from /proc: how the load generator measures the
// broker under test (--broker-pid) without help from the broker itself.
//
//   std::optional<double> cpu = ProcessCpuSeconds(pid);        // utime + stime
//   std::optional<uint64_t> rss = ProcessStatusKb(pid, "VmRSS");
//
// Thread-safe (reads files only).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace simq::loadgen {

// User plus system CPU seconds the process has used (/proc/PID/stat fields 14 and 15).
std::optional<double> ProcessCpuSeconds(int pid);

// A "kB" field of /proc/PID/status: "VmRSS", "VmHWM", …
std::optional<uint64_t> ProcessStatusKb(int pid, std::string_view field);

}  // namespace simq::loadgen

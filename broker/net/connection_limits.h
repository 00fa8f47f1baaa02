// The connection limits of one listener (config: max_connections_per_address,
// connection_rate_per_second).
//
//   auto limits = std::make_shared<ConnectionLimits>(per_address, rate);
//   if (!limits->AdmitRate()) → the CONNECT is refused with 0x9F Connection rate exceeded
//   std::optional<ConnectionSlot> slot = limits->Acquire("203.0.113.7");
//   if (!slot) → refused with 0x97 Quota exceeded; else the slot lives as long as the connection
//
// The rate is a token bucket holding one second's worth of connections. Addresses are client
// IPs after PROXY protocol. Refused connections do not count against the address.
//
// Thread-safe: accepted connections run on every worker. A slot may be released on any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace simq::net {

class ConnectionLimits;

// One connection counted against its address; released when destroyed.
class ConnectionSlot {
 public:
  ConnectionSlot() = default;
  ConnectionSlot(std::shared_ptr<ConnectionLimits> limits, std::string address)
      : limits_(std::move(limits)), address_(std::move(address)) {}
  ConnectionSlot(ConnectionSlot&&) = default;
  ConnectionSlot& operator=(ConnectionSlot&& other) noexcept;
  ~ConnectionSlot();

 private:
  void Release();
  std::shared_ptr<ConnectionLimits> limits_;
  std::string address_;
};

class ConnectionLimits : public std::enable_shared_from_this<ConnectionLimits> {
 public:
  // 0 disables either limit.
  ConnectionLimits(uint32_t max_per_address, uint32_t rate_per_second);

  bool AdmitRate();
  // A slot, or nullopt when `address` already has max_per_address connections. Without a
  // per-address limit, an empty slot.
  std::optional<ConnectionSlot> Acquire(std::string_view address);

 private:
  friend class ConnectionSlot;
  void Release(const std::string& address);

  const uint32_t max_per_address_;
  const uint32_t rate_;
  absl::Mutex mutex_;
  double tokens_ ABSL_GUARDED_BY(mutex_);
  std::chrono::steady_clock::time_point refilled_ ABSL_GUARDED_BY(mutex_);
  absl::flat_hash_map<std::string, uint32_t> per_address_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace simq::net

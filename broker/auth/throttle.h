// Failed-authentication throttling per source address (config [auth] failed_auth_*).
//
//   FailedAuthThrottle throttle(settings, clock);
//   if (throttle.Blocked(ip)) → refuse with 0x8A Banned, without checking anything
//   ... check the password ...
//   ok ? throttle.RecordSuccess(ip) : throttle.RecordFailure(ip);
//
// After `limit` failures from one address within `window`, the address is blocked for
// `block`; a success clears its count. Addresses are IPs without the port (after PROXY
// protocol, the real client). Memory is bounded: entries whose window and block have passed are
// swept when the table grows.
//
// Thread-safe (one mutex; held for a hash lookup).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

#include "broker/base/clock.h"

namespace simq::auth {

class FailedAuthThrottle {
 public:
  struct Settings {
    uint32_t limit = 10;  // 0 disables throttling
    std::chrono::seconds window{60};
    std::chrono::seconds block{60};
  };

  FailedAuthThrottle(Settings settings, const base::Clock& clock)
      : settings_(settings), clock_(clock) {}

  bool Blocked(std::string_view address);
  void RecordFailure(std::string_view address);
  void RecordSuccess(std::string_view address);

 private:
  struct Entry {
    uint32_t failures = 0;
    base::MonoTime window_start;
    base::MonoTime blocked_until;
  };
  void SweepLocked(base::MonoTime now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  const Settings settings_;
  const base::Clock& clock_;
  absl::Mutex mutex_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mutex_);
};

// "203.0.113.7" from "203.0.113.7:5000", "2001:db8::1" from "[2001:db8::1]:5000".
std::string_view AddressWithoutPort(std::string_view remote_address);

}  // namespace simq::auth

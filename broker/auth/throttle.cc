#include "broker/auth/throttle.h"

namespace simq::auth {
namespace {

constexpr size_t kSweepAbove = 4096;

}  // namespace

std::string_view AddressWithoutPort(std::string_view remote) {
  if (remote.starts_with('[')) {
    const size_t close = remote.find(']');
    return close == std::string_view::npos ? remote : remote.substr(1, close - 1);
  }
  const size_t colon = remote.rfind(':');
  if (colon == std::string_view::npos || remote.find(':') != colon) return remote;
  return remote.substr(0, colon);
}

bool FailedAuthThrottle::Blocked(std::string_view address) {
  if (settings_.limit == 0) return false;
  absl::MutexLock lock(&mutex_);
  auto it = entries_.find(std::string(address));
  return it != entries_.end() && it->second.blocked_until > clock_.Now();
}

void FailedAuthThrottle::RecordFailure(std::string_view address) {
  if (settings_.limit == 0) return;
  const base::MonoTime now = clock_.Now();
  absl::MutexLock lock(&mutex_);
  if (entries_.size() > kSweepAbove) SweepLocked(now);
  Entry& e = entries_[std::string(address)];
  if (e.failures == 0 || now - e.window_start > settings_.window) {
    e.failures = 0;
    e.window_start = now;
  }
  if (++e.failures >= settings_.limit) {
    e.blocked_until = now + settings_.block;
    e.failures = 0;
  }
}

void FailedAuthThrottle::RecordSuccess(std::string_view address) {
  if (settings_.limit == 0) return;
  absl::MutexLock lock(&mutex_);
  auto it = entries_.find(std::string(address));
  if (it != entries_.end() && it->second.blocked_until <= clock_.Now()) entries_.erase(it);
}

void FailedAuthThrottle::SweepLocked(base::MonoTime now) {
  absl::erase_if(entries_, [&](const auto& entry) {
    const Entry& e = entry.second;
    return e.blocked_until <= now && now - e.window_start > settings_.window;
  });
}

}  // namespace simq::auth

#include "broker/net/connection_limits.h"

#include <algorithm>

namespace simq::net {

ConnectionSlot& ConnectionSlot::operator=(ConnectionSlot&& other) noexcept {
  if (this != &other) {
    Release();
    limits_ = std::move(other.limits_);
    address_ = std::move(other.address_);
  }
  return *this;
}

ConnectionSlot::~ConnectionSlot() {
  Release();
}

void ConnectionSlot::Release() {
  if (limits_) std::exchange(limits_, nullptr)->Release(address_);
}

ConnectionLimits::ConnectionLimits(uint32_t max_per_address, uint32_t rate_per_second)
    : max_per_address_(max_per_address),
      rate_(rate_per_second),
      tokens_(rate_per_second),
      refilled_(std::chrono::steady_clock::now()) {}

bool ConnectionLimits::AdmitRate() {
  if (rate_ == 0) return true;
  const auto now = std::chrono::steady_clock::now();
  absl::MutexLock lock(&mutex_);
  const double elapsed = std::chrono::duration<double>(now - refilled_).count();
  tokens_ = std::min<double>(rate_, tokens_ + elapsed * rate_);
  refilled_ = now;
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

std::optional<ConnectionSlot> ConnectionLimits::Acquire(std::string_view address) {
  if (max_per_address_ == 0) return ConnectionSlot();
  std::string key(address);
  {
    absl::MutexLock lock(&mutex_);
    uint32_t& count = per_address_[key];
    if (count >= max_per_address_) {
      return std::nullopt;
    }
    ++count;
  }
  return ConnectionSlot(shared_from_this(), std::move(key));
}

void ConnectionLimits::Release(const std::string& address) {
  absl::MutexLock lock(&mutex_);
  auto it = per_address_.find(address);
  if (it != per_address_.end() && --it->second == 0) per_address_.erase(it);
}

}  // namespace simq::net

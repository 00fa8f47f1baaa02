#include "broker/base/clock.h"

namespace simq::base {

const RealClock& RealClock::Get() {
  static const RealClock clock;
  return clock;
}

FakeClock::FakeClock()
    : mono_ns_(int64_t{1'000'000} * 1'000'000'000),        // 1e6 s after the steady epoch
      wall_ns_(int64_t{1'700'000'000} * 1'000'000'000) {}  // 2023-11-14T22:13:20Z

MonoTime FakeClock::Now() const {
  return MonoTime(std::chrono::nanoseconds(mono_ns_.load(std::memory_order_acquire)));
}

WallTime FakeClock::WallNow() const {
  return WallTime(std::chrono::duration_cast<WallClock::duration>(
      std::chrono::nanoseconds(wall_ns_.load(std::memory_order_acquire))));
}

void FakeClock::Advance(std::chrono::nanoseconds by) {
  mono_ns_.fetch_add(by.count(), std::memory_order_acq_rel);
  wall_ns_.fetch_add(by.count(), std::memory_order_acq_rel);
}

}  // namespace simq::base

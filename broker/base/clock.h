// Time sources. Everything in simq that depends on time (keepalive, will delay, session and
// message expiry, $SYS intervals) reads a Clock, so tests substitute a FakeClock and never
// sleep.
//
//   simq::base::FakeClock clock;
//   session.Disconnect(clock.Now());
//   clock.Advance(std::chrono::seconds(30));
//   EXPECT_TRUE(session.Expired(clock.Now()));
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace simq::base {

using MonoClock = std::chrono::steady_clock;
using MonoTime = MonoClock::time_point;
using WallClock = std::chrono::system_clock;
using WallTime = WallClock::time_point;

// Thread-safe: any thread may read any Clock.
class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic time for intervals and deadlines inside one process.
  virtual MonoTime Now() const = 0;
  // Calendar time, for state that outlives the process (persisted expiry deadlines).
  virtual WallTime WallNow() const = 0;
};

// The process's real clocks. Stateless; `Get()` returns a shared instance.
class RealClock final : public Clock {
 public:
  static const RealClock& Get();
  MonoTime Now() const override { return MonoClock::now(); }
  WallTime WallNow() const override { return WallClock::now(); }
};

// A clock that moves only when told. Both time lines advance together.
class FakeClock final : public Clock {
 public:
  // Starts at an arbitrary fixed instant (not zero, so "unset" timestamps stand out).
  FakeClock();
  MonoTime Now() const override;
  WallTime WallNow() const override;
  void Advance(std::chrono::nanoseconds by);

 private:
  std::atomic<int64_t> mono_ns_;
  std::atomic<int64_t> wall_ns_;
};

// Milliseconds since the Unix epoch: the unit persisted deadlines are stored in.
inline int64_t ToUnixMillis(WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
inline WallTime FromUnixMillis(int64_t ms) {
  return WallTime(std::chrono::milliseconds(ms));
}

}  // namespace simq::base

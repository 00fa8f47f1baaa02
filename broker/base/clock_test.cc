#include "broker/base/clock.h"

#include <gtest/gtest.h>

namespace simq::base {
namespace {

TEST(FakeClockTest, MovesOnlyWhenAdvanced) {
  FakeClock clock;
  MonoTime mono = clock.Now();
  WallTime wall = clock.WallNow();
  EXPECT_EQ(clock.Now(), mono);
  clock.Advance(std::chrono::milliseconds(1500));
  EXPECT_EQ(clock.Now() - mono, std::chrono::milliseconds(1500));
  EXPECT_EQ(clock.WallNow() - wall, std::chrono::milliseconds(1500));
}

TEST(ClockTest, UnixMillisRoundTrip) {
  WallTime t = FromUnixMillis(1'700'000'123'456);
  EXPECT_EQ(ToUnixMillis(t), 1'700'000'123'456);
}

TEST(RealClockTest, IsMonotonic) {
  const Clock& clock = RealClock::Get();
  MonoTime a = clock.Now();
  MonoTime b = clock.Now();
  EXPECT_LE(a, b);
}

}  // namespace
}  // namespace simq::base

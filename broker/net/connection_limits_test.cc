#include "broker/net/connection_limits.h"

#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace simq::net {
namespace {

TEST(ConnectionLimitsTest, PerAddressLimitCountsLiveSlots) {
  auto limits = std::make_shared<ConnectionLimits>(/*max_per_address=*/2, /*rate=*/0);
  std::optional<ConnectionSlot> a = limits->Acquire("192.0.2.1");
  std::optional<ConnectionSlot> b = limits->Acquire("192.0.2.1");
  ASSERT_TRUE(a.has_value());
  ASSERT_TRUE(b.has_value());
  EXPECT_FALSE(limits->Acquire("192.0.2.1").has_value());
  // Another address has its own count.
  EXPECT_TRUE(limits->Acquire("192.0.2.2").has_value());
  // Closing one connection frees its slot.
  a.reset();
  std::optional<ConnectionSlot> c = limits->Acquire("192.0.2.1");
  EXPECT_TRUE(c.has_value());
  EXPECT_FALSE(limits->Acquire("192.0.2.1").has_value());
}

TEST(ConnectionLimitsTest, RefusedAttemptsDoNotCount) {
  auto limits = std::make_shared<ConnectionLimits>(1, 0);
  std::optional<ConnectionSlot> held = limits->Acquire("2001:db8::1");
  ASSERT_TRUE(held.has_value());
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(limits->Acquire("2001:db8::1").has_value());
  held.reset();
  // One release is enough although five attempts were refused.
  EXPECT_TRUE(limits->Acquire("2001:db8::1").has_value());
}

TEST(ConnectionLimitsTest, MovedSlotsReleaseOnce) {
  auto limits = std::make_shared<ConnectionLimits>(1, 0);
  ConnectionSlot outer;
  {
    std::optional<ConnectionSlot> slot = limits->Acquire("192.0.2.9");
    ASSERT_TRUE(slot.has_value());
    outer = std::move(*slot);
  }  // the moved-from slot is destroyed here and must not release
  EXPECT_FALSE(limits->Acquire("192.0.2.9").has_value());
  // Assigning over a live slot releases what it held.
  outer = ConnectionSlot();
  EXPECT_TRUE(limits->Acquire("192.0.2.9").has_value());
}

TEST(ConnectionLimitsTest, SlotsMayOutliveTheirLimits) {
  std::optional<ConnectionSlot> slot;
  {
    auto limits = std::make_shared<ConnectionLimits>(1, 0);
    slot = limits->Acquire("192.0.2.3");
    ASSERT_TRUE(slot.has_value());
  }              // the listener went away; the connection still holds a slot
  slot.reset();  // releases into limits kept alive by the slot: no crash under ASan
  SUCCEED();
}

TEST(ConnectionLimitsTest, ZeroMeansUnlimited) {
  auto limits = std::make_shared<ConnectionLimits>(0, 0);
  std::vector<ConnectionSlot> slots;
  for (int i = 0; i < 1000; ++i) {
    std::optional<ConnectionSlot> slot = limits->Acquire("192.0.2.1");
    ASSERT_TRUE(slot.has_value());
    slots.push_back(std::move(*slot));
    ASSERT_TRUE(limits->AdmitRate());
  }
}

TEST(ConnectionLimitsTest, RateAdmitsABurstOfOneSecondsWorth) {
  // 2 per second: a bucket of 2. The bucket gains one token per half second, far longer than
  // these calls take, so the third is refused.
  auto limits = std::make_shared<ConnectionLimits>(0, 2);
  EXPECT_TRUE(limits->AdmitRate());
  EXPECT_TRUE(limits->AdmitRate());
  EXPECT_FALSE(limits->AdmitRate());
  EXPECT_FALSE(limits->AdmitRate());
}

TEST(ConnectionLimitsTest, ConcurrentAcquireNeverExceedsTheLimit) {
  constexpr int kLimit = 3;
  auto limits = std::make_shared<ConnectionLimits>(kLimit, 0);
  std::vector<std::thread> threads;
  std::vector<std::vector<ConnectionSlot>> held(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        std::optional<ConnectionSlot> slot = limits->Acquire("192.0.2.1");
        if (slot) held[t].push_back(std::move(*slot));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  size_t total = 0;
  for (const auto& h : held) total += h.size();
  EXPECT_EQ(total, static_cast<size_t>(kLimit));
}

}  // namespace
}  // namespace simq::net

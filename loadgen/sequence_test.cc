#include "loadgen/sequence.h"

#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "loadgen/stamp.h"

namespace simq::loadgen {
namespace {

using R = SequenceTracker::Result;

TEST(StampTest, RoundTripsAndRejectsShortPayloads) {
  char buf[32];
  const Stamp s{123'456'789'012ull, 4242, (uint64_t{1} << 39) + 7};
  WriteStamp(buf, s);
  EXPECT_EQ(ReadStamp(std::string_view(buf, 32)), s);
  EXPECT_EQ(ReadStamp(std::string_view(buf, kStampSize)), s);
  EXPECT_EQ(ReadStamp(std::string_view(buf, kStampSize - 1)), std::nullopt);
  const Stamp top{1, kMaxPublishers - 1, kSequenceMask};
  WriteStamp(buf, top);
  EXPECT_EQ(ReadStamp(std::string_view(buf, 16)), top);
}

TEST(SequenceTrackerTest, InOrderStreamHasNoLoss) {
  SequenceTracker t;
  for (uint64_t i = 0; i < 1000; ++i) ASSERT_EQ(t.Observe(i), R::kInOrder);
  EXPECT_EQ(t.unique(), 1000u);
  EXPECT_EQ(t.Lost(1000), 0u);
  EXPECT_EQ(t.duplicates() + t.reorders() + t.missing(), 0u);
}

TEST(SequenceTrackerTest, TailLossIsCountedAgainstSent) {
  SequenceTracker t;
  for (uint64_t i = 0; i < 90; ++i) t.Observe(i);
  EXPECT_EQ(t.Lost(100), 10u);
  EXPECT_EQ(t.missing(), 0u);  // nothing missing *below* what arrived
}

TEST(SequenceTrackerTest, GapThenLateArrivalIsAReorderNotALoss) {
  SequenceTracker t;
  EXPECT_EQ(t.Observe(0), R::kInOrder);
  EXPECT_EQ(t.Observe(3), R::kGap);  // 1, 2 missing
  EXPECT_EQ(t.missing(), 2u);
  EXPECT_EQ(t.Observe(2), R::kLate);
  EXPECT_EQ(t.Observe(1), R::kLate);
  EXPECT_EQ(t.Observe(4), R::kInOrder);
  EXPECT_EQ(t.reorders(), 2u);
  EXPECT_EQ(t.missing(), 0u);
  EXPECT_EQ(t.Lost(5), 0u);
  EXPECT_EQ(t.duplicates(), 0u);
}

TEST(SequenceTrackerTest, LateArrivalInTheMiddleOfAGapSplitsIt) {
  SequenceTracker t;
  t.Observe(0);
  t.Observe(10);  // 1..9 missing
  EXPECT_EQ(t.Observe(5), R::kLate);
  EXPECT_EQ(t.Observe(5), R::kDuplicate);
  EXPECT_EQ(t.Observe(1), R::kLate);
  EXPECT_EQ(t.Observe(9), R::kLate);
  EXPECT_EQ(t.missing(), 6u);  // 2,3,4,6,7,8
  EXPECT_EQ(t.Lost(11), 6u);
}

TEST(SequenceTrackerTest, RepeatsAreDuplicates) {
  SequenceTracker t;
  t.Observe(0);
  t.Observe(1);
  EXPECT_EQ(t.Observe(1), R::kDuplicate);
  EXPECT_EQ(t.Observe(0), R::kDuplicate);
  EXPECT_EQ(t.duplicates(), 2u);
  EXPECT_EQ(t.received(), 4u);
  EXPECT_EQ(t.unique(), 2u);
  EXPECT_EQ(t.Lost(2), 0u);
}

TEST(SequenceTrackerTest, TooManyGapsDegradesWithoutFalseDuplicates) {
  SequenceTracker t;
  for (uint64_t i = 0; i < SequenceTracker::kMaxGaps + 10; ++i) t.Observe(2 * i + 1);
  EXPECT_TRUE(t.degraded());
  // 0 fell out of the tracked gaps: counted as late, not as a duplicate.
  EXPECT_EQ(t.Observe(0), R::kLate);
  EXPECT_EQ(t.duplicates(), 0u);
}

TEST(SharedSequenceSetTest, MarksOncePerNumberAcrossThreads) {
  SharedSequenceSet set(2);
  constexpr uint64_t kN = 3'000'000;  // spans several chunks
  std::vector<std::thread> threads;
  std::atomic<uint64_t> firsts{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      uint64_t mine = 0;
      // Every thread marks all even numbers; thread t also marks odd numbers ≡ t (mod 4).
      for (uint64_t i = 0; i < kN; ++i) {
        if (i % 2 == 0 || i % 4 == static_cast<uint64_t>(t)) mine += set.Mark(1, i);
      }
      firsts += mine;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(firsts.load(), kN);
  EXPECT_EQ(set.unique(1), kN);
  EXPECT_EQ(set.unique(0), 0u);
  EXPECT_FALSE(set.Mark(1, 17));
  EXPECT_FALSE(set.Mark(5, 0));  // no such publisher
}

TEST(SplitOrderTest, EachMembersSubsequenceMustAscend) {
  SplitOrder o;
  EXPECT_FALSE(o.Observe(0, 0));
  EXPECT_FALSE(o.Observe(0, 5));
  EXPECT_FALSE(o.Observe(3, 1));
  EXPECT_TRUE(o.Observe(0, 4));
  EXPECT_FALSE(o.Observe(0, 6));
}

}  // namespace
}  // namespace simq::loadgen

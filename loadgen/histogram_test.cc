#include "loadgen/histogram.h"

#include <random>

#include <gtest/gtest.h>

namespace simq::loadgen {
namespace {

TEST(HistogramTest, EmptyReportsZero) {
  Histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.Percentile(50), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.min(), 0u);
}

TEST(HistogramTest, SmallValuesAreExact) {
  Histogram h;
  for (uint64_t v = 1; v <= 100; ++v) h.Record(v);
  EXPECT_EQ(h.Percentile(50), 50u);
  EXPECT_EQ(h.Percentile(90), 90u);
  EXPECT_EQ(h.Percentile(99), 99u);
  EXPECT_EQ(h.Percentile(100), 100u);
  EXPECT_EQ(h.min(), 1u);
  EXPECT_DOUBLE_EQ(h.mean(), 50.5);
}

TEST(HistogramTest, BucketsAreContiguousAndMonotonic) {
  size_t last = 0;
  for (uint64_t v = 0; v < (1u << 20); ++v) {
    const size_t i = Histogram::Index(v);
    ASSERT_TRUE(i == last || i == last + 1) << v;
    ASSERT_LE(v, Histogram::UpperEdge(i)) << v;
    last = i;
  }
  EXPECT_EQ(Histogram::Index(Histogram::kMaxTrackable), Histogram::kCounters - 1);
  EXPECT_EQ(Histogram::Index(UINT64_MAX), Histogram::kCounters - 1);
}

TEST(HistogramTest, RelativeErrorBelowOnePercentAtEveryMagnitude) {
  for (uint64_t v : {150ull, 1'000ull, 12'345ull, 999'999ull, 123'456'789ull, 987'654'321'000ull}) {
    const uint64_t edge = Histogram::UpperEdge(Histogram::Index(v));
    EXPECT_GE(edge, v);
    EXPECT_LE(static_cast<double>(edge - v) / static_cast<double>(v), 1.0 / 128) << v;
  }
}

TEST(HistogramTest, PercentilesOfAUniformDistribution) {
  Histogram h;
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<uint64_t> dist(1'000, 1'000'000);  // 1 µs .. 1 ms in ns
  for (int i = 0; i < 200'000; ++i) h.Record(dist(rng));
  EXPECT_NEAR(static_cast<double>(h.Percentile(50)), 500'500, 500'500 * 0.02);
  EXPECT_NEAR(static_cast<double>(h.Percentile(99)), 990'010, 990'010 * 0.02);
  EXPECT_LE(h.Percentile(100), 1'000'000u);
  EXPECT_EQ(h.Percentile(100), h.max());
}

TEST(HistogramTest, MaxIsExactAndTailIsSeparated) {
  Histogram h;
  for (int i = 0; i < 9'990; ++i) h.Record(20'000);  // 20 µs
  for (int i = 0; i < 10; ++i) h.Record(5'000'000);  // 5 ms: the worst 0.1 %
  EXPECT_LE(h.Percentile(99.9), 20'200u);
  EXPECT_GE(h.Percentile(99.95), 4'960'000u);
  EXPECT_EQ(h.max(), 5'000'000u);
}

TEST(HistogramTest, MergeAddsCountsAndKeepsExtremes) {
  Histogram a, b;
  a.Record(10);
  a.Record(1'000);
  b.Record(5);
  b.Record(1'000'000);
  a.Merge(b);
  EXPECT_EQ(a.count(), 4u);
  EXPECT_EQ(a.min(), 5u);
  EXPECT_EQ(a.max(), 1'000'000u);
  EXPECT_EQ(a.Percentile(50), 10u);
  a.Reset();
  EXPECT_EQ(a.count(), 0u);
  EXPECT_EQ(a.max(), 0u);
}

}  // namespace
}  // namespace simq::loadgen

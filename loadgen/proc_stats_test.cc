#include "loadgen/proc_stats.h"

#include <chrono>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

namespace simq::loadgen {
namespace {

TEST(ProcStatsTest, ReadsOwnCpuAndMemory) {
  const std::optional<double> before = ProcessCpuSeconds(getpid());
  ASSERT_TRUE(before.has_value());
  // Burn a little CPU and memory.
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(60);
  volatile uint64_t x = 0;
  while (std::chrono::steady_clock::now() < until) x = x + 1;
  std::vector<char> block(32 << 20, 1);
  const std::optional<double> after = ProcessCpuSeconds(getpid());
  ASSERT_TRUE(after.has_value());
  EXPECT_GE(*after, *before);
  const std::optional<uint64_t> rss = ProcessStatusKb(getpid(), "VmRSS");
  ASSERT_TRUE(rss.has_value());
  EXPECT_GE(*rss, 32u << 10);
  EXPECT_GE(*ProcessStatusKb(getpid(), "VmHWM"), *rss);
  EXPECT_EQ(ProcessStatusKb(getpid(), "NoSuchField"), std::nullopt);
  EXPECT_EQ(ProcessCpuSeconds(-1), std::nullopt);
}

}  // namespace
}  // namespace simq::loadgen

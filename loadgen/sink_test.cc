#include "loadgen/sink.h"

#include <gtest/gtest.h>

namespace simq::loadgen {
namespace {

TEST(TopicMatchesTest, Wildcards) {
  EXPECT_TRUE(TopicMatches("a/b", "a/b"));
  EXPECT_FALSE(TopicMatches("a/b", "a/c"));
  EXPECT_FALSE(TopicMatches("a/b", "a/b/c"));
  EXPECT_FALSE(TopicMatches("a/b/c", "a/b"));
  EXPECT_TRUE(TopicMatches("a/+", "a/b"));
  EXPECT_FALSE(TopicMatches("a/+", "a/b/c"));
  EXPECT_TRUE(TopicMatches("a/+/c", "a/b/c"));
  EXPECT_TRUE(TopicMatches("+/+", "a/b"));
  EXPECT_TRUE(TopicMatches("a/#", "a/b/c"));
  EXPECT_TRUE(TopicMatches("a/#", "a"));
  EXPECT_TRUE(TopicMatches("#", "a/b"));
  EXPECT_TRUE(TopicMatches("a/+", "a/"));
  EXPECT_FALSE(TopicMatches("#", "$SYS/x"));
  EXPECT_FALSE(TopicMatches("+/x", "$SYS/x"));
  EXPECT_TRUE(TopicMatches("$SYS/#", "$SYS/x"));
}

}  // namespace
}  // namespace simq::loadgen

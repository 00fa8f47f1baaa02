// NextLevel: the level splitter under both SubscriptionTrie and TopicMap.

#include "broker/topic/levels.h"

#include <string>
#include <string_view>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace simq::topic {
namespace {

using ::testing::ElementsAre;

std::vector<std::string> Levels(std::string_view text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos != kNoLevel) out.emplace_back(NextLevel(text, pos));
  return out;
}

TEST(NextLevelTest, SplitsOnSlash) {
  EXPECT_THAT(Levels("sport/tennis/player1"), ElementsAre("sport", "tennis", "player1"));
  EXPECT_THAT(Levels("sport"), ElementsAre("sport"));
  EXPECT_THAT(Levels("+/#"), ElementsAre("+", "#"));
}

TEST(NextLevelTest, EmptyLevelsAreLevels) {
  EXPECT_THAT(Levels("/finance"), ElementsAre("", "finance"));
  EXPECT_THAT(Levels("sport/"), ElementsAre("sport", ""));
  EXPECT_THAT(Levels("a//b"), ElementsAre("a", "", "b"));
  EXPECT_THAT(Levels("/"), ElementsAre("", ""));
  EXPECT_THAT(Levels("//"), ElementsAre("", "", ""));
  EXPECT_THAT(Levels(""), ElementsAre(""));
}

TEST(NextLevelTest, AsKeyViewsTheSameBytes) {
  std::string_view s = "a/b";
  absl::string_view key = AsKey(s.substr(2));
  EXPECT_EQ(key.data(), s.data() + 2);
  EXPECT_EQ(key.size(), 1u);
}

}  // namespace
}  // namespace simq::topic

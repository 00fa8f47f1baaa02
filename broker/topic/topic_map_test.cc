// TopicMap: the retained-message index. Set/Erase/Find semantics, pruning, matching by filter
// with the §4.7 rules, and a randomized cross-check against a naive matcher.

#include "broker/topic/topic_map.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "broker/topic/reference_matcher.h"

namespace simq::topic {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Optional;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

// (topic, value) of every entry `filter` matches, sorted.
std::vector<std::pair<std::string, int>> MatchAll(const TopicMap<int>& map,
                                                  std::string_view filter) {
  std::vector<std::pair<std::string, int>> out;
  map.Match(filter, [&](std::string_view topic, const int& v) { out.emplace_back(topic, v); });
  std::sort(out.begin(), out.end());
  return out;
}

TEST(TopicMapTest, SetFindAndReplace) {
  TopicMap<int> map;
  EXPECT_EQ(map.Set("a/b", 1), std::nullopt);
  EXPECT_EQ(map.Set("a", 2), std::nullopt);
  EXPECT_EQ(map.size(), 2u);
  EXPECT_THAT(map.Set("a/b", 3), Optional(1));
  EXPECT_EQ(map.size(), 2u);
  ASSERT_NE(map.Find("a/b"), nullptr);
  EXPECT_EQ(*map.Find("a/b"), 3);
  EXPECT_EQ(*map.Find("a"), 2);
  EXPECT_EQ(map.Find("a/"), nullptr);
  EXPECT_EQ(map.Find("a/b/c"), nullptr);
  EXPECT_EQ(map.Find("b"), nullptr);
}

TEST(TopicMapTest, EmptyLevelsAreDistinctTopics) {
  TopicMap<int> map;
  map.Set("a", 1);
  map.Set("a/", 2);
  map.Set("/a", 3);
  map.Set("a//b", 4);
  map.Set("//", 5);
  EXPECT_EQ(map.size(), 5u);
  EXPECT_EQ(*map.Find("a"), 1);
  EXPECT_EQ(*map.Find("a/"), 2);
  EXPECT_EQ(*map.Find("/a"), 3);
  EXPECT_EQ(*map.Find("a//b"), 4);
  EXPECT_EQ(*map.Find("//"), 5);
  EXPECT_EQ(map.Find("/"), nullptr);
  EXPECT_EQ(map.Find("a/b"), nullptr);
}

TEST(TopicMapTest, EraseReturnsValueAndPrunes) {
  TopicMap<int> map;
  map.Set("a/b/c", 1);
  map.Set("a/b", 2);
  map.Set("a/x", 3);
  EXPECT_EQ(map.node_count(), 5u);  // root, a, b, c, x
  EXPECT_EQ(map.Erase("a/b/d"), std::nullopt);
  EXPECT_EQ(map.Erase("a"), std::nullopt);  // a node, but no value
  EXPECT_THAT(map.Erase("a/b"), Optional(2));
  EXPECT_EQ(map.Erase("a/b"), std::nullopt);
  EXPECT_EQ(map.node_count(), 5u);  // "a/b" still leads to "a/b/c"
  EXPECT_EQ(*map.Find("a/b/c"), 1);
  EXPECT_THAT(map.Erase("a/b/c"), Optional(1));
  EXPECT_EQ(map.node_count(), 3u);
  EXPECT_THAT(map.Erase("a/x"), Optional(3));
  EXPECT_EQ(map.node_count(), 1u);
  EXPECT_EQ(map.size(), 0u);
  EXPECT_THAT(MatchAll(map, "#"), IsEmpty());
}

TEST(TopicMapTest, MoveOnlyValues) {
  TopicMap<std::unique_ptr<int>> map;
  EXPECT_EQ(map.Set("t", std::make_unique<int>(1)), std::nullopt);
  std::optional<std::unique_ptr<int>> old = map.Set("t", std::make_unique<int>(2));
  ASSERT_TRUE(old.has_value());
  EXPECT_EQ(**old, 1);
  EXPECT_EQ(**map.Find("t"), 2);
  std::optional<std::unique_ptr<int>> erased = map.Erase("t");
  ASSERT_TRUE(erased.has_value());
  EXPECT_EQ(**erased, 2);
}

TEST(TopicMapTest, SpecExamplesOneTopicAtATime) {
  for (const testutil::MatchCase& c : testutil::kMatchCases) {
    TopicMap<int> map;
    map.Set(c.topic, 1);
    EXPECT_EQ(MatchAll(map, c.filter).size(), c.matches ? 1u : 0u)
        << "filter '" << c.filter << "' topic '" << c.topic << "'";
  }
}

TEST(TopicMapTest, SpecExamplesAllTopicsInOneMap) {
  TopicMap<int> map;
  std::vector<std::string_view> topics;
  for (const testutil::MatchCase& c : testutil::kMatchCases) {
    if (!map.Find(c.topic)) {
      map.Set(c.topic, static_cast<int>(topics.size()));
      topics.push_back(c.topic);
    }
  }
  for (const testutil::MatchCase& c : testutil::kMatchCases) {
    std::vector<std::pair<std::string, int>> expected;
    for (size_t i = 0; i < topics.size(); ++i) {
      if (testutil::ReferenceMatches(c.filter, topics[i])) {
        expected.emplace_back(topics[i], static_cast<int>(i));
      }
    }
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(MatchAll(map, c.filter), expected) << "filter '" << c.filter << "'";
  }
}

TEST(TopicMapTest, MatchReportsFullTopicNames) {
  TopicMap<int> map;
  map.Set("sport", 1);
  map.Set("sport/tennis/player1", 2);
  map.Set("sport/tennis/player1/ranking", 3);
  map.Set("$SYS/uptime", 4);
  map.Set("/finance", 5);
  EXPECT_THAT(MatchAll(map, "sport/#"),
              ElementsAre(Pair("sport", 1), Pair("sport/tennis/player1", 2),
                          Pair("sport/tennis/player1/ranking", 3)));
  EXPECT_THAT(MatchAll(map, "#"),
              ElementsAre(Pair("/finance", 5), Pair("sport", 1), Pair("sport/tennis/player1", 2),
                          Pair("sport/tennis/player1/ranking", 3)));
  EXPECT_THAT(MatchAll(map, "$SYS/#"), ElementsAre(Pair("$SYS/uptime", 4)));
  EXPECT_THAT(MatchAll(map, "+/+"), ElementsAre(Pair("/finance", 5)));
  EXPECT_THAT(MatchAll(map, "sport/+/player1"), ElementsAre(Pair("sport/tennis/player1", 2)));
  EXPECT_THAT(MatchAll(map, "sport/tennis/player1"), ElementsAre(Pair("sport/tennis/player1", 2)));
  EXPECT_THAT(MatchAll(map, "sport/tennis"), IsEmpty());
}

TEST(TopicMapTest, ForEachVisitsEveryEntry) {
  TopicMap<int> map;
  map.Set("a", 1);
  map.Set("a/b", 2);
  map.Set("$SYS/x", 3);
  map.Set("/", 4);
  map.Erase("a");
  std::vector<std::pair<std::string, int>> seen;
  map.ForEach([&](std::string_view topic, const int& v) { seen.emplace_back(topic, v); });
  EXPECT_THAT(seen, UnorderedElementsAre(Pair("a/b", 2), Pair("$SYS/x", 3), Pair("/", 4)));
}

TEST(TopicMapTest, RandomizedAgainstReferenceMatcher) {
  constexpr uint32_t kSeed = 7031;
  testutil::RandomTopics random(kSeed);
  TopicMap<int> map;
  std::map<std::string, int> model;
  for (int round = 0; round < 40; ++round) {
    for (int op = 0; op < 40; ++op) {
      const std::string topic = random.Topic();
      if (random.Uniform(0, 2) != 0) {
        std::optional<int> expected_previous;
        if (auto it = model.find(topic); it != model.end()) expected_previous = it->second;
        EXPECT_EQ(map.Set(topic, round * 100 + op), expected_previous) << topic;
        model[topic] = round * 100 + op;
      } else {
        std::optional<int> expected_removed;
        if (auto it = model.find(topic); it != model.end()) expected_removed = it->second;
        EXPECT_EQ(map.Erase(topic), expected_removed) << topic;
        model.erase(topic);
      }
    }
    ASSERT_EQ(map.size(), model.size());
    for (int f = 0; f < 40; ++f) {
      const std::string filter = random.Filter();
      std::vector<std::pair<std::string, int>> expected;
      for (const auto& [topic, v] : model) {
        if (testutil::ReferenceMatches(filter, topic)) expected.emplace_back(topic, v);
      }
      ASSERT_EQ(MatchAll(map, filter), expected)
          << "seed " << kSeed << " round " << round << " filter '" << filter << "'";
    }
  }
  EXPECT_GT(model.size(), 40u);  // the test exercised a busy map
  for (const auto& [topic, v] : model) EXPECT_THAT(map.Erase(topic), Optional(v));
  EXPECT_EQ(map.size(), 0u);
  EXPECT_EQ(map.node_count(), 1u);
}

}  // namespace
}  // namespace simq::topic

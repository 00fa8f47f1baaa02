// Test helpers: a deliberately naive topic matcher to cross-check SubscriptionTrie and TopicMap
// against, and random filters and topics over a small alphabet of levels so that collisions,
// empty levels, wildcards and '$' topics are all frequent.
#pragma once

#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "broker/protocol/topic.h"

namespace simq::topic::testutil {

inline std::vector<std::string> SplitOnSlash(std::string_view s) {
  std::vector<std::string> levels(1);
  for (char c : s) {
    if (c == '/') {
      levels.emplace_back();
    } else {
      levels.back() += c;
    }
  }
  return levels;
}

// MQTT §4.7, level by level, written for obviousness rather than speed.
inline bool ReferenceMatches(std::string_view filter, std::string_view topic) {
  std::vector<std::string> f = SplitOnSlash(filter);
  std::vector<std::string> t = SplitOnSlash(topic);
  // [MQTT-4.7.2-1]: no leading wildcard matches a topic starting with '$'.
  if (topic.starts_with("$") && (f[0] == "+" || f[0] == "#")) return false;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] == "#") return true;  // this level and all below, or none (the parent)
    if (i >= t.size()) return false;
    if (f[i] != "+" && f[i] != t[i]) return false;
  }
  return f.size() == t.size();
}

struct MatchCase {
  std::string_view filter;
  std::string_view topic;
  bool matches;
};

// MQTT 5 §4.7.1 and §4.7.2 examples, plus empty levels and '$' topics.
inline constexpr MatchCase kMatchCases[] = {
    // §4.7.1.2 Multi-level wildcard.
    {"sport/tennis/player1/#", "sport/tennis/player1", true},
    {"sport/tennis/player1/#", "sport/tennis/player1/ranking", true},
    {"sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true},
    {"sport/tennis/player1/#", "sport/tennis/player2", false},
    {"sport/tennis/player1/#", "sport/tennis", false},
    {"sport/#", "sport", true},
    {"sport/#", "sport/", true},
    {"sport/#", "sports", false},
    {"#", "sport", true},
    {"#", "sport/tennis/player1", true},
    {"#", "/", true},
    // §4.7.1.3 Single-level wildcard.
    {"sport/tennis/+", "sport/tennis/player1", true},
    {"sport/tennis/+", "sport/tennis/player2", true},
    {"sport/tennis/+", "sport/tennis/player1/ranking", false},
    {"sport/+", "sport", false},
    {"sport/+", "sport/", true},
    {"+/+", "/finance", true},
    {"/+", "/finance", true},
    {"+", "/finance", false},
    {"+", "finance", true},
    {"+/tennis/#", "sport/tennis/player1", true},
    {"+/tennis/#", "sport/tennis", true},
    {"+/tennis/#", "sport/football", false},
    {"sport/+/player1", "sport/tennis/player1", true},
    {"sport/+/player1", "sport/tennis/player2", false},
    // Empty levels.
    {"a/+/b", "a//b", true},
    {"a//b", "a//b", true},
    {"a/b", "a//b", false},
    {"/a", "/a", true},
    {"+/a", "/a", true},
    {"/#", "/a", true},
    {"a", "/a", false},
    {"a/", "a/", true},
    {"a/", "a", false},
    {"a", "a/", false},
    {"a/+", "a/", true},
    {"a/#", "a/", true},
    {"//", "//", true},
    {"+/+/+", "//", true},
    {"+/+", "//", false},
    {"//#", "//", true},
    {"//#", "///", true},
    {"//#", "/", true},  // "/" is the two empty levels before the '#'
    {"//#", "a/", false},
    // §4.7.2 Topics beginning with '$' [MQTT-4.7.2-1].
    {"#", "$SYS/monitor/Clients", false},
    {"#", "$SYS", false},
    {"+/monitor/Clients", "$SYS/monitor/Clients", false},
    {"+", "$SYS", false},
    {"+/#", "$SYS/a", false},
    {"$SYS/#", "$SYS/monitor/Clients", true},
    {"$SYS/#", "$SYS", true},
    {"$SYS/monitor/+", "$SYS/monitor/Clients", true},
    {"$SYS", "$SYS", true},
    {"$SYS/+", "$SYS/", true},
    {"a/+", "a/$b", true},  // only the first level counts
    {"a/#", "a/$b/c", true},
    {"+/$SYS", "a/$SYS", true},
    {"#", "a$", true},
};

// Random valid filters and topics of 1 to 4 levels.
class RandomTopics {
 public:
  explicit RandomTopics(uint32_t seed) : rng_(seed) {}

  std::string Filter() {
    static constexpr std::string_view kLevels[] = {"a", "b", "", "$SYS", "+"};
    while (true) {
      std::vector<std::string_view> levels(Uniform(1, 4));
      for (std::string_view& level : levels) level = kLevels[Uniform(0, std::size(kLevels) - 1)];
      if (Uniform(0, 3) == 0) levels.back() = "#";
      std::string filter = Join(levels);
      if (protocol::ValidateTopicFilter(filter) == protocol::ReasonCode::kSuccess) return filter;
    }
  }

  std::string Topic() {
    static constexpr std::string_view kLevels[] = {"a", "b", "", "$SYS", "c"};
    while (true) {
      std::vector<std::string_view> levels(Uniform(1, 4));
      for (std::string_view& level : levels) level = kLevels[Uniform(0, std::size(kLevels) - 1)];
      std::string topic = Join(levels);
      if (protocol::ValidateTopicName(topic) == protocol::ReasonCode::kSuccess) return topic;
    }
  }

  size_t Uniform(size_t lo, size_t hi) {
    return std::uniform_int_distribution<size_t>(lo, hi)(rng_);
  }

 private:
  static std::string Join(const std::vector<std::string_view>& levels) {
    std::string s;
    for (size_t i = 0; i < levels.size(); ++i) {
      if (i > 0) s += '/';
      s += levels[i];
    }
    return s;
  }

  std::mt19937 rng_;
};

}  // namespace simq::topic::testutil

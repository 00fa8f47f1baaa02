// SubscriptionTrie: the MQTT 5 §4.7 matching rules, replace and unsubscribe semantics, pruning,
// shared groups, and a randomized cross-check against a naive matcher.

#include "broker/topic/subscription_trie.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "broker/protocol/types.h"
#include "broker/topic/reference_matcher.h"

namespace simq::topic {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

Subscriber Sub(uint64_t session, uint32_t subscription_id = 0,
               protocol::QoS qos = protocol::QoS::kAtMostOnce) {
  Subscriber s;
  s.session = session;
  s.worker = static_cast<uint32_t>(session % 4);
  s.options.max_qos = qos;
  s.subscription_id = subscription_id;
  return s;
}

// Everything one Match call reported.
struct Matched {
  std::vector<Subscriber> subscribers;
  std::vector<SharedGroup*> groups;

  std::vector<uint64_t> Sessions() const {
    std::vector<uint64_t> out;
    for (const Subscriber& s : subscribers) out.push_back(s.session);
    std::sort(out.begin(), out.end());
    return out;
  }
  std::vector<uint32_t> Ids() const {
    std::vector<uint32_t> out;
    for (const Subscriber& s : subscribers) out.push_back(s.subscription_id);
    std::sort(out.begin(), out.end());
    return out;
  }
  // "share_name|filter" of every reported group, sorted.
  std::vector<std::string> Groups() const {
    std::vector<std::string> out;
    for (const SharedGroup* g : groups) out.push_back(g->share_name + "|" + g->filter);
    std::sort(out.begin(), out.end());
    return out;
  }
};

Matched MatchAll(SubscriptionTrie& trie, std::string_view topic) {
  Matched m;
  trie.Match(
      topic, [&](const Subscriber& s) { m.subscribers.push_back(s); },
      [&](SharedGroup& g) { m.groups.push_back(&g); });
  return m;
}

std::vector<uint64_t> Members(const SharedGroup& g) {
  std::vector<uint64_t> out;
  for (const Subscriber& s : g.members) out.push_back(s.session);
  return out;
}

TEST(SubscriptionTrieTest, SpecExamplesOneFilterAtATime) {
  for (const testutil::MatchCase& c : testutil::kMatchCases) {
    SubscriptionTrie trie;
    trie.Subscribe(c.filter, Sub(1));
    EXPECT_EQ(MatchAll(trie, c.topic).subscribers.size(), c.matches ? 1u : 0u)
        << "filter '" << c.filter << "' topic '" << c.topic << "'";
    // The same filter as a shared subscription follows the same rules.
    trie.SubscribeShared("g", c.filter, Sub(2));
    EXPECT_EQ(MatchAll(trie, c.topic).groups.size(), c.matches ? 1u : 0u)
        << "shared filter '" << c.filter << "' topic '" << c.topic << "'";
  }
}

TEST(SubscriptionTrieTest, SpecExamplesAllFiltersInOneTrie) {
  // Every distinct filter of the table in one trie, subscription id = its position.
  std::vector<std::string_view> filters;
  for (const testutil::MatchCase& c : testutil::kMatchCases) {
    if (std::find(filters.begin(), filters.end(), c.filter) == filters.end()) {
      filters.push_back(c.filter);
    }
  }
  SubscriptionTrie trie;
  for (uint32_t i = 0; i < filters.size(); ++i) trie.Subscribe(filters[i], Sub(7, i));
  for (const testutil::MatchCase& c : testutil::kMatchCases) {
    std::vector<uint32_t> expected;
    for (uint32_t i = 0; i < filters.size(); ++i) {
      if (testutil::ReferenceMatches(filters[i], c.topic)) expected.push_back(i);
    }
    EXPECT_EQ(MatchAll(trie, c.topic).Ids(), expected) << "topic '" << c.topic << "'";
  }
}

TEST(SubscriptionTrieTest, ReferenceMatcherAgreesWithSpecTable) {
  // The randomized tests below trust ReferenceMatches; hold it to the same table.
  for (const testutil::MatchCase& c : testutil::kMatchCases) {
    EXPECT_EQ(testutil::ReferenceMatches(c.filter, c.topic), c.matches)
        << "filter '" << c.filter << "' topic '" << c.topic << "'";
  }
}

TEST(SubscriptionTrieTest, DollarTopicsOnlyMatchExplicitFilters) {
  SubscriptionTrie trie;
  trie.Subscribe("#", Sub(1));
  trie.Subscribe("+/monitor/Clients", Sub(2));
  trie.Subscribe("$SYS/#", Sub(3));
  trie.Subscribe("$SYS/monitor/+", Sub(4));
  trie.SubscribeShared("all", "#", Sub(5));
  EXPECT_THAT(MatchAll(trie, "$SYS/monitor/Clients").Sessions(), ElementsAre(3, 4));
  EXPECT_THAT(MatchAll(trie, "$SYS/monitor/Clients").groups, IsEmpty());
  EXPECT_THAT(MatchAll(trie, "x/monitor/Clients").Sessions(), ElementsAre(1, 2));
  EXPECT_THAT(MatchAll(trie, "x/monitor/Clients").Groups(), ElementsAre("all|#"));
}

TEST(SubscriptionTrieTest, SubscribeReturnsWhetherNew) {
  SubscriptionTrie trie;
  EXPECT_TRUE(trie.Subscribe("a/b", Sub(1)));
  EXPECT_TRUE(trie.Subscribe("a/b", Sub(2)));
  EXPECT_TRUE(trie.Subscribe("a/+", Sub(1)));
  EXPECT_FALSE(trie.Subscribe("a/b", Sub(1)));
  EXPECT_EQ(trie.subscription_count(), 3u);
}

TEST(SubscriptionTrieTest, ResubscribeReplacesOptionsAndIdentifier) {
  // [MQTT-3.8.4-3]: a new subscription to the same filter replaces the old one.
  SubscriptionTrie trie;
  trie.Subscribe("a/+", Sub(1, 10, protocol::QoS::kAtMostOnce));
  Subscriber replacement = Sub(1, 11, protocol::QoS::kExactlyOnce);
  replacement.options.no_local = true;
  replacement.options.retain_handling = protocol::RetainHandling::kDoNotSend;
  EXPECT_FALSE(trie.Subscribe("a/+", replacement));
  Matched m = MatchAll(trie, "a/b");
  ASSERT_EQ(m.subscribers.size(), 1u);
  EXPECT_EQ(m.subscribers[0].subscription_id, 11u);
  EXPECT_EQ(m.subscribers[0].options, replacement.options);
  EXPECT_EQ(trie.subscription_count(), 1u);
}

TEST(SubscriptionTrieTest, OverlappingFiltersOfOneSessionReportedOncePerFilter) {
  // Merging is the caller's job [MQTT-3.3.4-2]; the trie reports each matching filter.
  SubscriptionTrie trie;
  trie.Subscribe("a/b", Sub(1, 1));
  trie.Subscribe("a/+", Sub(1, 2));
  trie.Subscribe("a/#", Sub(1, 3));
  trie.Subscribe("#", Sub(1, 4));
  trie.Subscribe("+/+", Sub(1, 5));
  trie.Subscribe("a/c", Sub(1, 6));
  Matched m = MatchAll(trie, "a/b");
  EXPECT_THAT(m.Ids(), ElementsAre(1, 2, 3, 4, 5));
  EXPECT_THAT(m.Sessions(), ElementsAre(1, 1, 1, 1, 1));
}

TEST(SubscriptionTrieTest, UnsubscribeRemovesOnlyThatSubscription) {
  SubscriptionTrie trie;
  trie.Subscribe("a/+", Sub(1));
  trie.Subscribe("a/+", Sub(2));
  trie.Subscribe("a/#", Sub(1));
  EXPECT_FALSE(trie.Unsubscribe("a/+", 3));  // other session
  EXPECT_FALSE(trie.Unsubscribe("a/b", 1));  // no such filter
  EXPECT_FALSE(trie.Unsubscribe("a", 1));    // inner node without subscribers
  EXPECT_FALSE(trie.Unsubscribe("a/+/c", 1));
  EXPECT_TRUE(trie.Unsubscribe("a/+", 1));
  EXPECT_FALSE(trie.Unsubscribe("a/+", 1));  // already gone
  EXPECT_EQ(trie.subscription_count(), 2u);
  EXPECT_THAT(MatchAll(trie, "a/b").Sessions(), ElementsAre(1, 2));  // 1 via "a/#"
  EXPECT_TRUE(trie.Unsubscribe("a/#", 1));
  EXPECT_THAT(MatchAll(trie, "a/b").Sessions(), ElementsAre(2));
}

TEST(SubscriptionTrieTest, UnsubscribePrunesEmptyNodes) {
  SubscriptionTrie trie;
  EXPECT_EQ(trie.node_count(), 1u);
  trie.Subscribe("a/b/c", Sub(1));
  EXPECT_EQ(trie.node_count(), 4u);
  trie.Subscribe("a/+/#", Sub(1));
  EXPECT_EQ(trie.node_count(), 6u);  // + and # under "a"
  trie.Subscribe("a", Sub(2));
  EXPECT_EQ(trie.node_count(), 6u);
  trie.Unsubscribe("a/b/c", 1);
  EXPECT_EQ(trie.node_count(), 4u);  // "b" and "c" gone, "a" still has children
  trie.Unsubscribe("a/+/#", 1);
  EXPECT_EQ(trie.node_count(), 2u);  // "a" still has a subscriber
  trie.Unsubscribe("a", 2);
  EXPECT_EQ(trie.node_count(), 1u);
  EXPECT_EQ(trie.subscription_count(), 0u);
  EXPECT_THAT(MatchAll(trie, "a").subscribers, IsEmpty());
}

TEST(SubscriptionTrieTest, EmptyLevelsArePrunedToo) {
  SubscriptionTrie trie;
  trie.Subscribe("//", Sub(1));
  trie.Subscribe("/+/", Sub(1));
  trie.Subscribe("a/", Sub(1));
  trie.Subscribe("/#", Sub(1));
  EXPECT_THAT(MatchAll(trie, "//").subscribers.size(), 3u);
  trie.Unsubscribe("//", 1);
  trie.Unsubscribe("/+/", 1);
  trie.Unsubscribe("a/", 1);
  trie.Unsubscribe("/#", 1);
  EXPECT_EQ(trie.node_count(), 1u);
}

TEST(SubscriptionTrieTest, ManySessionsOnOneFilter) {
  // Enough sessions to switch the node to its session index and back.
  constexpr uint64_t kSessions = 200;
  SubscriptionTrie trie;
  for (uint64_t s = 0; s < kSessions; ++s) {
    EXPECT_TRUE(trie.Subscribe("fan/out", Sub(s, static_cast<uint32_t>(s))));
  }
  for (uint64_t s = 0; s < kSessions; s += 3) {
    EXPECT_FALSE(trie.Subscribe("fan/out", Sub(s, static_cast<uint32_t>(s + 1000))));
  }
  for (uint64_t s = 0; s < kSessions; s += 2) EXPECT_TRUE(trie.Unsubscribe("fan/out", s));
  std::vector<uint64_t> expected_sessions;
  std::vector<uint32_t> expected_ids;
  for (uint64_t s = 1; s < kSessions; s += 2) {
    expected_sessions.push_back(s);
    expected_ids.push_back(static_cast<uint32_t>(s % 3 == 0 ? s + 1000 : s));
  }
  std::sort(expected_ids.begin(), expected_ids.end());
  Matched m = MatchAll(trie, "fan/out");
  EXPECT_EQ(m.Sessions(), expected_sessions);
  EXPECT_EQ(m.Ids(), expected_ids);
  // Down to a few, below the index threshold, then re-subscribe and remove one more.
  for (uint64_t s = 1; s < kSessions - 6; s += 2) EXPECT_TRUE(trie.Unsubscribe("fan/out", s));
  EXPECT_THAT(MatchAll(trie, "fan/out").Sessions(), ElementsAre(195, 197, 199));
  EXPECT_FALSE(trie.Subscribe("fan/out", Sub(197, 5)));
  EXPECT_TRUE(trie.Unsubscribe("fan/out", 199));
  EXPECT_FALSE(trie.Unsubscribe("fan/out", 199));
  EXPECT_THAT(MatchAll(trie, "fan/out").Ids(), ElementsAre(5, 1195));
  EXPECT_EQ(trie.subscription_count(), 2u);
}

TEST(SubscriptionTrieTest, DeepTopicWithManyPendingBranches) {
  // Every level forks into a literal and a '+' branch: more pending branches than the inline
  // capacity of Match's work stack.
  constexpr int kLevels = 40;
  std::string literal = "a";
  std::string plus = "+";
  for (int i = 1; i < kLevels; ++i) {
    literal += "/a";
    plus += "/+";
  }
  SubscriptionTrie trie;
  trie.Subscribe(literal, Sub(1));
  trie.Subscribe(plus, Sub(2));
  trie.Subscribe(plus.substr(0, plus.size() - 1) + "#", Sub(3));
  EXPECT_THAT(MatchAll(trie, literal).Sessions(), ElementsAre(1, 2, 3));
  EXPECT_THAT(MatchAll(trie, literal + "/a").Sessions(), ElementsAre(3));
  // 39 levels: the '#' filter matches its parent level; 38 levels match nothing.
  EXPECT_THAT(MatchAll(trie, literal.substr(2)).Sessions(), ElementsAre(3));
  EXPECT_THAT(MatchAll(trie, literal.substr(4)).Sessions(), IsEmpty());
}

TEST(SubscriptionTrieTest, SharedGroupMembersInSubscriptionOrder) {
  SubscriptionTrie trie;
  EXPECT_TRUE(trie.SubscribeShared("g", "jobs/#", Sub(3)));
  EXPECT_TRUE(trie.SubscribeShared("g", "jobs/#", Sub(1)));
  EXPECT_TRUE(trie.SubscribeShared("g", "jobs/#", Sub(2)));
  Matched m = MatchAll(trie, "jobs/42");
  EXPECT_THAT(m.subscribers, IsEmpty());
  ASSERT_EQ(m.groups.size(), 1u);
  EXPECT_EQ(m.groups[0]->share_name, "g");
  EXPECT_EQ(m.groups[0]->filter, "jobs/#");
  EXPECT_THAT(Members(*m.groups[0]), ElementsAre(3, 1, 2));
  EXPECT_EQ(trie.subscription_count(), 3u);
}

TEST(SubscriptionTrieTest, SharedResubscribeReplacesInPlace) {
  SubscriptionTrie trie;
  trie.SubscribeShared("g", "jobs", Sub(1, 1));
  trie.SubscribeShared("g", "jobs", Sub(2, 2));
  trie.SubscribeShared("g", "jobs", Sub(3, 3));
  EXPECT_FALSE(trie.SubscribeShared("g", "jobs", Sub(2, 20, protocol::QoS::kAtLeastOnce)));
  Matched m = MatchAll(trie, "jobs");
  ASSERT_EQ(m.groups.size(), 1u);
  const SharedGroup& g = *m.groups[0];
  EXPECT_THAT(Members(g), ElementsAre(1, 2, 3));
  EXPECT_EQ(g.members[1].subscription_id, 20u);
  EXPECT_EQ(g.members[1].options.max_qos, protocol::QoS::kAtLeastOnce);
  EXPECT_EQ(trie.subscription_count(), 3u);
}

TEST(SubscriptionTrieTest, GroupsAreKeyedByShareNameAndFilter) {
  SubscriptionTrie trie;
  trie.SubscribeShared("g1", "a/+", Sub(1));
  trie.SubscribeShared("g2", "a/+", Sub(2));  // another group on the same filter
  trie.SubscribeShared("g1", "a/#", Sub(3));  // same name, other filter: another group
  trie.SubscribeShared("g1", "a/b", Sub(4));
  trie.Subscribe("a/+", Sub(5));  // non-shared on the same filter is independent
  Matched m = MatchAll(trie, "a/b");
  EXPECT_THAT(m.Groups(), ElementsAre("g1|a/#", "g1|a/+", "g1|a/b", "g2|a/+"));
  EXPECT_THAT(m.Sessions(), ElementsAre(5));
  for (const SharedGroup* g : m.groups) {
    EXPECT_EQ(g->members.size(), 1u) << g->share_name << " " << g->filter;
  }
  EXPECT_THAT(MatchAll(trie, "a/c").Groups(), ElementsAre("g1|a/#", "g1|a/+", "g2|a/+"));
  EXPECT_EQ(trie.subscription_count(), 5u);
}

TEST(SubscriptionTrieTest, EachGroupReportedOncePerMatch) {
  SubscriptionTrie trie;
  for (uint64_t s = 0; s < 5; ++s) trie.SubscribeShared("g", "a/+", Sub(s));
  Matched m = MatchAll(trie, "a/b");
  ASSERT_EQ(m.groups.size(), 1u);
  EXPECT_EQ(m.groups[0]->members.size(), 5u);
}

TEST(SubscriptionTrieTest, GroupCursorSurvivesBetweenMatches) {
  SubscriptionTrie trie;
  trie.SubscribeShared("g", "t", Sub(1));
  trie.SubscribeShared("g", "t", Sub(2));
  std::vector<uint64_t> picked;
  for (int i = 0; i < 4; ++i) {
    trie.Match(
        "t", [](const Subscriber&) {},
        [&](SharedGroup& g) { picked.push_back(g.members[g.next++ % g.members.size()].session); });
  }
  EXPECT_THAT(picked, ElementsAre(1, 2, 1, 2));
}

TEST(SubscriptionTrieTest, UnsubscribeSharedRemovesMemberThenGroup) {
  SubscriptionTrie trie;
  trie.SubscribeShared("g", "jobs/+", Sub(1));
  trie.SubscribeShared("g", "jobs/+", Sub(2));
  trie.SubscribeShared("h", "jobs/+", Sub(1));
  EXPECT_FALSE(trie.UnsubscribeShared("x", "jobs/+", 1));  // no such group
  EXPECT_FALSE(trie.UnsubscribeShared("g", "jobs/#", 1));  // no such filter
  EXPECT_FALSE(trie.UnsubscribeShared("g", "jobs/+", 9));  // not a member
  EXPECT_FALSE(trie.Unsubscribe("jobs/+", 1));             // not a non-shared subscription
  EXPECT_TRUE(trie.UnsubscribeShared("g", "jobs/+", 1));
  EXPECT_FALSE(trie.UnsubscribeShared("g", "jobs/+", 1));
  Matched m = MatchAll(trie, "jobs/1");
  ASSERT_EQ(m.groups.size(), 2u);
  EXPECT_THAT(m.Groups(), ElementsAre("g|jobs/+", "h|jobs/+"));
  EXPECT_TRUE(trie.UnsubscribeShared("g", "jobs/+", 2));
  EXPECT_THAT(MatchAll(trie, "jobs/1").Groups(), ElementsAre("h|jobs/+"));  // "g" is gone
  EXPECT_EQ(trie.subscription_count(), 1u);
  EXPECT_TRUE(trie.UnsubscribeShared("h", "jobs/+", 1));
  EXPECT_THAT(MatchAll(trie, "jobs/1").groups, IsEmpty());
  EXPECT_EQ(trie.subscription_count(), 0u);
  EXPECT_EQ(trie.node_count(), 1u);
}

TEST(SubscriptionTrieTest, GroupRecreatedAfterEmptyingStartsFresh) {
  SubscriptionTrie trie;
  trie.SubscribeShared("g", "t", Sub(1));
  trie.SubscribeShared("g", "t", Sub(2));
  trie.UnsubscribeShared("g", "t", 1);
  trie.UnsubscribeShared("g", "t", 2);
  EXPECT_TRUE(trie.SubscribeShared("g", "t", Sub(3)));
  Matched m = MatchAll(trie, "t");
  ASSERT_EQ(m.groups.size(), 1u);
  EXPECT_THAT(Members(*m.groups[0]), ElementsAre(3));
}

TEST(SubscriptionTrieTest, SharedAndNonSharedKeepTheNodeAlive) {
  SubscriptionTrie trie;
  trie.Subscribe("a/b", Sub(1));
  trie.SubscribeShared("g", "a/b", Sub(1));
  trie.Unsubscribe("a/b", 1);
  EXPECT_EQ(trie.node_count(), 3u);
  EXPECT_THAT(MatchAll(trie, "a/b").Groups(), ElementsAre("g|a/b"));
  trie.UnsubscribeShared("g", "a/b", 1);
  EXPECT_EQ(trie.node_count(), 1u);
}

// Random subscribes, re-subscribes and unsubscribes, shared and not, checked against a model
// and ReferenceMatches after every batch; at the end everything is removed.
TEST(SubscriptionTrieTest, RandomizedAgainstReferenceMatcher) {
  constexpr uint32_t kSeed = 20240611;
  testutil::RandomTopics random(kSeed);
  SubscriptionTrie trie;
  std::map<std::pair<std::string, uint64_t>, uint32_t> model;  // (filter, session) -> id
  // (share, filter) -> members in order, with their ids.
  std::map<std::pair<std::string, std::string>, std::vector<std::pair<uint64_t, uint32_t>>>
      shared_model;
  uint32_t next_id = 1;
  const std::string shares[] = {"s1", "s2"};

  auto check = [&](int round) {
    size_t expected_count = model.size();
    for (const auto& [key, members] : shared_model) expected_count += members.size();
    ASSERT_EQ(trie.subscription_count(), expected_count) << "round " << round;
    for (int t = 0; t < 60; ++t) {
      const std::string topic = random.Topic();
      std::vector<uint32_t> expected_ids;
      for (const auto& [key, id] : model) {
        if (testutil::ReferenceMatches(key.first, topic)) expected_ids.push_back(id);
      }
      std::sort(expected_ids.begin(), expected_ids.end());
      std::map<std::string, std::vector<std::pair<uint64_t, uint32_t>>> expected_groups;
      for (const auto& [key, members] : shared_model) {
        if (testutil::ReferenceMatches(key.second, topic)) {
          expected_groups[key.first + "|" + key.second] = members;
        }
      }
      Matched m = MatchAll(trie, topic);
      ASSERT_EQ(m.Ids(), expected_ids)
          << "seed " << kSeed << " round " << round << " topic '" << topic << "'";
      std::map<std::string, std::vector<std::pair<uint64_t, uint32_t>>> actual_groups;
      for (const SharedGroup* g : m.groups) {
        auto& members = actual_groups[g->share_name + "|" + g->filter];
        ASSERT_TRUE(members.empty())
            << "group reported twice: " << g->share_name << "|" << g->filter;
        for (const Subscriber& s : g->members) members.emplace_back(s.session, s.subscription_id);
      }
      ASSERT_EQ(actual_groups, expected_groups)
          << "seed " << kSeed << " round " << round << " topic '" << topic << "'";
    }
  };

  for (int round = 0; round < 40; ++round) {
    for (int op = 0; op < 50; ++op) {
      const std::string filter = random.Filter();
      const uint64_t session = random.Uniform(1, 6);
      const uint32_t id = next_id++;
      const bool is_shared = random.Uniform(0, 3) == 0;
      const bool subscribe = random.Uniform(0, 2) != 0;  // grow on average
      if (!is_shared) {
        auto key = std::make_pair(filter, session);
        if (subscribe) {
          EXPECT_EQ(trie.Subscribe(filter, Sub(session, id)), !model.contains(key));
          model[key] = id;
        } else {
          EXPECT_EQ(trie.Unsubscribe(filter, session), model.erase(key) == 1);
        }
        continue;
      }
      const std::string& share = shares[random.Uniform(0, 1)];
      auto& members = shared_model[{share, filter}];
      auto it = std::find_if(members.begin(), members.end(),
                             [&](const auto& m) { return m.first == session; });
      if (subscribe) {
        EXPECT_EQ(trie.SubscribeShared(share, filter, Sub(session, id)), it == members.end());
        if (it == members.end()) {
          members.emplace_back(session, id);
        } else {
          it->second = id;
        }
      } else {
        EXPECT_EQ(trie.UnsubscribeShared(share, filter, session), it != members.end());
        if (it != members.end()) members.erase(it);
      }
      if (members.empty()) shared_model.erase({share, filter});
    }
    check(round);
    if (HasFatalFailure()) return;
  }
  EXPECT_GT(model.size(), 50u);  // the test exercised a busy trie
  EXPECT_GT(shared_model.size(), 10u);

  for (const auto& [key, id] : model) EXPECT_TRUE(trie.Unsubscribe(key.first, key.second));
  for (const auto& [key, members] : shared_model) {
    for (const auto& [session, id] : members) {
      EXPECT_TRUE(trie.UnsubscribeShared(key.first, key.second, session));
    }
  }
  EXPECT_EQ(trie.subscription_count(), 0u);
  EXPECT_EQ(trie.node_count(), 1u);
}

}  // namespace
}  // namespace simq::topic

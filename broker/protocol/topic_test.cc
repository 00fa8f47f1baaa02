// Topic Names and Topic Filters (§4.7) and shared subscriptions (§4.8.2), with the examples the
// specification gives.

#include "broker/protocol/topic.h"

#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "broker/protocol/test_util.h"

namespace simq::protocol {
namespace {

constexpr ReasonCode kOk = ReasonCode::kSuccess;
constexpr ReasonCode kBadFilter = ReasonCode::kTopicFilterInvalid;
constexpr ReasonCode kBadName = ReasonCode::kTopicNameInvalid;

TEST(ValidateTopicFilterTest, MultiLevelWildcardExamples) {
  // §4.7.1.2.
  EXPECT_EQ(ValidateTopicFilter("sport/tennis/player1/#"), kOk);
  EXPECT_EQ(ValidateTopicFilter("sport/tennis/#"), kOk);
  EXPECT_EQ(ValidateTopicFilter("sport/#"), kOk);
  EXPECT_EQ(ValidateTopicFilter("#"), kOk);
  EXPECT_EQ(ValidateTopicFilter("sport/tennis#"), kBadFilter);
  EXPECT_EQ(ValidateTopicFilter("sport/tennis/#/ranking"), kBadFilter);
  EXPECT_EQ(ValidateTopicFilter("#/"), kBadFilter);
  EXPECT_EQ(ValidateTopicFilter("##"), kBadFilter);
}

TEST(ValidateTopicFilterTest, SingleLevelWildcardExamples) {
  // §4.7.1.3.
  EXPECT_EQ(ValidateTopicFilter("+"), kOk);
  EXPECT_EQ(ValidateTopicFilter("+/tennis/#"), kOk);
  EXPECT_EQ(ValidateTopicFilter("sport/+/player1"), kOk);
  EXPECT_EQ(ValidateTopicFilter("/+"), kOk);
  EXPECT_EQ(ValidateTopicFilter("+/+"), kOk);
  EXPECT_EQ(ValidateTopicFilter("+/"), kOk);
  EXPECT_EQ(ValidateTopicFilter("sport+"), kBadFilter);
  EXPECT_EQ(ValidateTopicFilter("sport/+player1"), kBadFilter);
  EXPECT_EQ(ValidateTopicFilter("++"), kBadFilter);
  EXPECT_EQ(ValidateTopicFilter("+#"), kBadFilter);
}

TEST(ValidateTopicFilterTest, LevelsAndEmptiness) {
  // §4.7.3: at least one character [MQTT-4.7.3-1]; empty levels and spaces are fine.
  EXPECT_EQ(ValidateTopicFilter(""), kBadFilter);
  EXPECT_EQ(ValidateTopicFilter("/"), kOk);
  EXPECT_EQ(ValidateTopicFilter("//"), kOk);
  EXPECT_EQ(ValidateTopicFilter("/finance"), kOk);
  EXPECT_EQ(ValidateTopicFilter("sport tennis"), kOk);
  EXPECT_EQ(ValidateTopicFilter("$SYS/#"), kOk);
  EXPECT_EQ(ValidateTopicFilter("$share"), kOk);  // not "$share/": an ordinary filter
}

TEST(ValidateTopicNameTest, Examples) {
  EXPECT_EQ(ValidateTopicName("sport/tennis/player1"), kOk);
  EXPECT_EQ(ValidateTopicName("/"), kOk);
  EXPECT_EQ(ValidateTopicName("$SYS/broker/uptime"), kOk);
  EXPECT_EQ(ValidateTopicName("sport tennis"), kOk);
  // [MQTT-4.7.3-1] and [MQTT-4.7.1-1].
  EXPECT_EQ(ValidateTopicName(""), kBadName);
  EXPECT_EQ(ValidateTopicName("sport/+"), kBadName);
  EXPECT_EQ(ValidateTopicName("sport/#"), kBadName);
  EXPECT_EQ(ValidateTopicName("#"), kBadName);
  EXPECT_EQ(ValidateTopicName("+"), kBadName);
  EXPECT_EQ(ValidateTopicName("a+b"), kBadName);
}

TEST(SharedSubscriptionTest, ValidExamples) {
  // §4.8.2.
  EXPECT_EQ(ValidateTopicFilter("$share/group/a/b"), kOk);
  EXPECT_EQ(ValidateTopicFilter("$share/consumer1/sport/tennis/+"), kOk);
  EXPECT_EQ(ValidateTopicFilter("$share/consumer1//finance"), kOk);
  EXPECT_EQ(ValidateTopicFilter("$share/g/#"), kOk);
  EXPECT_EQ(ValidateTopicFilter("$share/g/+"), kOk);
}

TEST(SharedSubscriptionTest, InvalidExamples) {
  // [MQTT-4.8.2-1]: a ShareName of at least one character; [MQTT-4.8.2-2]: no '/', '+' or '#'
  // in it, and a '/' then a Topic Filter after it.
  EXPECT_EQ(ValidateTopicFilter("$share//a"), kBadFilter);
  EXPECT_EQ(ValidateTopicFilter("$share/gr+oup/a"), kBadFilter);
  EXPECT_EQ(ValidateTopicFilter("$share/gr#oup/a"), kBadFilter);
  EXPECT_EQ(ValidateTopicFilter("$share/+/a"), kBadFilter);
  EXPECT_EQ(ValidateTopicFilter("$share/group"), kBadFilter);
  EXPECT_EQ(ValidateTopicFilter("$share/group/"), kBadFilter);
  EXPECT_EQ(ValidateTopicFilter("$share/"), kBadFilter);
  EXPECT_EQ(ValidateTopicFilter("$share/g/sport/tennis#"), kBadFilter);
  EXPECT_EQ(ValidateTopicFilter("$share/g/a/#/b"), kBadFilter);
}

TEST(ParseSharedFilterTest, SplitsShareNameAndFilter) {
  std::optional<SharedFilter> s = ParseSharedFilter("$share/group/a/b");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->share_name, "group");
  EXPECT_EQ(s->filter, "a/b");

  s = ParseSharedFilter("$share/consumer1//finance");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->share_name, "consumer1");
  EXPECT_EQ(s->filter, "/finance");

  // "$share/group/" leaves an empty filter, which ValidateTopicFilter refuses.
  s = ParseSharedFilter("$share/group/");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->share_name, "group");
  EXPECT_EQ(s->filter, "");
  EXPECT_EQ(ValidateTopicFilter(s->filter), kBadFilter);

  s = ParseSharedFilter("$share/group");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->share_name, "group");
  EXPECT_EQ(s->filter, "");
}

TEST(ParseSharedFilterTest, NotShared) {
  EXPECT_EQ(ParseSharedFilter("a/b"), std::nullopt);
  EXPECT_EQ(ParseSharedFilter("$share"), std::nullopt);
  EXPECT_EQ(ParseSharedFilter("$SHARE/g/a"), std::nullopt);  // case-sensitive
  EXPECT_EQ(ParseSharedFilter("$sharex/g/a"), std::nullopt);
  EXPECT_EQ(ParseSharedFilter("x$share/g/a"), std::nullopt);
}

TEST(HasWildcardTest, FindsEitherWildcard) {
  EXPECT_TRUE(HasWildcard("a/+"));
  EXPECT_TRUE(HasWildcard("#"));
  EXPECT_FALSE(HasWildcard("a/b"));
  EXPECT_FALSE(HasWildcard(""));
}

}  // namespace
}  // namespace simq::protocol

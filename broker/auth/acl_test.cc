#include "broker/auth/acl.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace simq::auth {
namespace {

using ::testing::HasSubstr;

ClientInfo Client(std::string id, std::optional<std::string> user = std::nullopt) {
  ClientInfo c;
  c.client_id = std::move(id);
  c.username = std::move(user);
  return c;
}

Acl Parsed(std::string_view text, bool default_allow = false) {
  absl::StatusOr<Acl> acl = Acl::Parse(text, "acl.txt", default_allow);
  EXPECT_TRUE(acl.ok()) << acl.status();
  return acl.ok() ? *acl : *Acl::Parse("", "acl.txt", default_allow);
}

TEST(FilterAlgebraTest, Covers) {
  EXPECT_TRUE(FilterCovers("#", "a/b"));
  EXPECT_TRUE(FilterCovers("a/#", "a"));
  EXPECT_TRUE(FilterCovers("a/#", "a/+/c"));
  EXPECT_TRUE(FilterCovers("a/+", "a/b"));
  EXPECT_TRUE(FilterCovers("a/+", "a/+"));
  EXPECT_TRUE(FilterCovers("+/+", "a/b"));
  EXPECT_FALSE(FilterCovers("a/+", "a/#"));
  EXPECT_FALSE(FilterCovers("a/+", "a"));
  EXPECT_FALSE(FilterCovers("a/b", "a/+"));
  EXPECT_FALSE(FilterCovers("a/b", "a/b/c"));
  EXPECT_FALSE(FilterCovers("a", "a/b"));
  // $-topics are not matched by a leading wildcard (§4.7.2).
  EXPECT_FALSE(FilterCovers("#", "$SYS/broker/uptime"));
  EXPECT_FALSE(FilterCovers("+/broker/#", "$SYS/broker/uptime"));
  EXPECT_TRUE(FilterCovers("$SYS/#", "$SYS/broker/uptime"));
  EXPECT_FALSE(FilterCovers("$SYS/#", "#"));
}

TEST(FilterAlgebraTest, Intersects) {
  EXPECT_TRUE(FiltersIntersect("#", "a/b"));
  EXPECT_TRUE(FiltersIntersect("a/+", "+/b"));
  EXPECT_TRUE(FiltersIntersect("a/#", "a"));
  EXPECT_TRUE(FiltersIntersect("a", "a/#"));
  EXPECT_TRUE(FiltersIntersect("a/secret", "a/#"));
  EXPECT_FALSE(FiltersIntersect("a/+", "a"));
  EXPECT_FALSE(FiltersIntersect("a/b", "a/c"));
  EXPECT_FALSE(FiltersIntersect("a/+/c", "a/b/d"));
  EXPECT_FALSE(FiltersIntersect("#", "$SYS/x"));
  EXPECT_FALSE(FiltersIntersect("$SYS/x", "+/x"));
  EXPECT_TRUE(FiltersIntersect("$SYS/#", "$SYS/x"));
}

TEST(AclTest, SectionsApplyToTheirClients) {
  const Acl acl = Parsed(R"(
# everyone
read public/#
user alice
readwrite home/alice/#
deny home/alice/private/#
client dashboard
read #
all
write telemetry/+
)");
  const ClientInfo alice = Client("c1", "alice");
  const ClientInfo bob = Client("c2", "bob");
  const ClientInfo dashboard = Client("dashboard");
  EXPECT_TRUE(acl.CanSubscribe(bob, "public/news"));
  EXPECT_FALSE(acl.CanPublish(bob, "public/news"));
  EXPECT_TRUE(acl.CanPublish(bob, "telemetry/x"));  // "all" section after the others
  EXPECT_TRUE(acl.CanPublish(alice, "home/alice/lamp"));
  EXPECT_TRUE(acl.CanSubscribe(alice, "home/alice/lamp/+"));
  EXPECT_FALSE(acl.CanSubscribe(alice, "home/alice/+"));  // it could receive home/alice/private
  EXPECT_FALSE(acl.CanPublish(bob, "home/alice/lamp"));
  EXPECT_FALSE(acl.CanPublish(alice, "home/alice/private/diary"));
  // A subscription that could receive a denied topic is refused as a whole.
  EXPECT_FALSE(acl.CanSubscribe(alice, "home/alice/#"));
  EXPECT_TRUE(acl.CanSubscribe(dashboard, "anything/at/all"));
  EXPECT_FALSE(acl.CanSubscribe(dashboard, "$SYS/#"));  // '#' does not reach $SYS
  EXPECT_FALSE(acl.CanSubscribe(bob, "#"));
  // Shared subscriptions are judged by their filter.
  EXPECT_TRUE(acl.CanSubscribe(bob, "$share/g/public/#"));
  EXPECT_FALSE(acl.CanSubscribe(bob, "$share/g/home/#"));
}

TEST(AclTest, PatternsSubstituteUserAndClient) {
  const Acl acl = Parsed("readwrite devices/%c/#\nread users/%u/inbox\n");
  EXPECT_TRUE(acl.CanPublish(Client("sensor-1"), "devices/sensor-1/temp"));
  EXPECT_FALSE(acl.CanPublish(Client("sensor-1"), "devices/sensor-2/temp"));
  EXPECT_TRUE(acl.CanSubscribe(Client("x", "alice"), "users/alice/inbox"));
  EXPECT_FALSE(acl.CanSubscribe(Client("x"), "users//inbox"));  // anonymous: no %u
  // An identifier with wildcards or separators cannot widen its own rule.
  EXPECT_FALSE(acl.CanSubscribe(Client("#"), "devices/#"));
  EXPECT_FALSE(acl.CanPublish(Client("a/b"), "devices/a/b/x"));
}

TEST(AclTest, DefaultPolicy) {
  const Acl deny = Parsed("deny secret/#\n", /*default_allow=*/false);
  const Acl allow = Parsed("deny secret/#\nread $SYS/broker/uptime\n", /*default_allow=*/true);
  const ClientInfo c = Client("c");
  EXPECT_FALSE(deny.CanPublish(c, "a"));
  EXPECT_TRUE(allow.CanPublish(c, "a"));
  EXPECT_FALSE(allow.CanPublish(c, "secret/x"));
  EXPECT_TRUE(allow.CanSubscribe(c, "public/#"));
  EXPECT_FALSE(allow.CanSubscribe(c, "#"));  // it could receive secret/x
  EXPECT_FALSE(allow.CanSubscribe(c, "secret/+"));
  // $SYS is never granted by the default, only by a rule that names it.
  EXPECT_FALSE(allow.CanSubscribe(c, "$SYS/broker/clients/connected"));
  EXPECT_TRUE(allow.CanSubscribe(c, "$SYS/broker/uptime"));
}

TEST(AclTest, ErrorsNameTheLine) {
  EXPECT_THAT(std::string(Acl::Parse("read a\nwrit b\n", "acl.txt", false).status().message()),
              HasSubstr("acl.txt:2: unknown keyword \"writ\""));
  EXPECT_THAT(std::string(Acl::Parse("read a/#/b\n", "acl.txt", false).status().message()),
              HasSubstr("acl.txt:1: \"a/#/b\" is not a valid topic filter"));
  EXPECT_THAT(std::string(Acl::Parse("user\n", "acl.txt", false).status().message()),
              HasSubstr("acl.txt:1: \"user\" needs a name"));
  EXPECT_THAT(std::string(Acl::Parse("deny\n", "acl.txt", false).status().message()),
              HasSubstr("needs a topic filter"));
}

}  // namespace
}  // namespace simq::auth

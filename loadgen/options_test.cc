#include "loadgen/options.h"

#include <gtest/gtest.h>

namespace simq::loadgen {
namespace {

absl::StatusOr<Options> Parse(std::vector<std::string> args) {
  return ParseOptions(args);
}

TEST(OptionsTest, ScenarioDefaults) {
  EXPECT_EQ(Parse({"fanin"})->pubs, 10);
  EXPECT_EQ(Parse({"fanin"})->subs, 1);
  EXPECT_EQ(Parse({"fanout"})->subs, 100);
  EXPECT_EQ(Parse({"pairs"})->pubs, 50);
  EXPECT_EQ(Parse({"pairs"})->subs, 50);
  EXPECT_EQ(Parse({"pairs", "--subs", "7"})->pubs, 7);
  EXPECT_EQ(Parse({"shared"})->subs, 5);
  EXPECT_EQ(Parse({"conn"})->conns, 1000);
}

TEST(OptionsTest, ParsesEveryValueForm) {
  absl::StatusOr<Options> o = Parse({"pairs",         "--pubs=4",
                                     "--qos",         "2",
                                     "--mqtt",        "5",
                                     "--topic-alias", "--payload",
                                     "1024",          "--rate",
                                     "2.5",           "--window=16",
                                     "--duration",    "1.5",
                                     "--threads",     "2",
                                     "--host",        "127.0.0.1:1884,[::1]:1885,broker",
                                     "--check",       "--json",
                                     "/tmp/x.json"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->pubs, 4);
  EXPECT_EQ(o->qos, 2);
  EXPECT_EQ(o->mqtt, 5);
  EXPECT_TRUE(o->topic_alias);
  EXPECT_EQ(o->payload, 1024);
  EXPECT_DOUBLE_EQ(o->rate, 2.5);
  EXPECT_EQ(o->window, 16);
  EXPECT_DOUBLE_EQ(o->duration, 1.5);
  EXPECT_EQ(o->threads, 2);
  ASSERT_EQ(o->hosts.size(), 3u);
  EXPECT_EQ(o->hosts[0], (HostPort{"127.0.0.1", 1884}));
  EXPECT_EQ(o->hosts[1], (HostPort{"::1", 1885}));
  EXPECT_EQ(o->hosts[2], (HostPort{"broker", 1883}));
  EXPECT_EQ(o->hosts[1].ToString(), "[::1]:1885");
  EXPECT_TRUE(o->check);
  EXPECT_EQ(o->json_path, "/tmp/x.json");
}

TEST(OptionsTest, RejectsNonsenseWithTheFlagsName) {
  auto error = [](std::vector<std::string> args) {
    absl::StatusOr<Options> o = ParseOptions(args);
    return o.ok() ? std::string("ok") : std::string(o.status().message());
  };
  EXPECT_EQ(error({}), "no scenario given (try --help)");
  EXPECT_NE(error({"storm"}).find("unknown scenario 'storm'"), std::string::npos);
  EXPECT_NE(error({"fanin", "--qos", "3"}).find("--qos"), std::string::npos);
  EXPECT_NE(error({"fanin", "--payload", "8"}).find("--payload"), std::string::npos);
  EXPECT_NE(error({"fanin", "--mqtt", "3"}).find("--mqtt"), std::string::npos);
  EXPECT_NE(error({"fanin", "--topic-alias"}).find("needs --mqtt 5"), std::string::npos);
  EXPECT_NE(error({"fanin", "--pubs"}).find("needs a value"), std::string::npos);
  EXPECT_NE(error({"fanin", "--bogus", "1"}).find("unknown option '--bogus'"), std::string::npos);
  EXPECT_NE(error({"pairs", "--pubs", "3", "--subs", "4"}).find("as many"), std::string::npos);
  EXPECT_NE(error({"pub", "--window", "10"}).find("QoS 0 in-flight"), std::string::npos);
  EXPECT_NE(error({"fanin", "--subscriptions", "10"}).find("only for pairs"), std::string::npos);
  EXPECT_NE(error({"shared", "--slow-subs", "1"}).find("only for fanin"), std::string::npos);
  EXPECT_NE(error({"fanin", "--host", "a:0"}).find("bad port"), std::string::npos);
  EXPECT_NE(error({"fanin", "--host", "::1"}).find("brackets"), std::string::npos);
  EXPECT_NE(error({"fanin", "--warmup", "5", "--duration", "2"}).find("--warmup"),
            std::string::npos);
  EXPECT_NE(error({"fanin", "--check=1"}).find("takes no value"), std::string::npos);
  EXPECT_NE(error({"pairs", "--session-expiry", "60"}).find("needs --mqtt 5"), std::string::npos);
  EXPECT_NE(error({"pairs", "--mqtt", "5", "--session-expiry", "-1"}).find("--session-expiry"),
            std::string::npos);
}

TEST(OptionsTest, PersistentSessions) {
  absl::StatusOr<Options> o =
      Parse({"pairs", "--qos", "1", "--mqtt", "5", "--persistent", "--session-expiry", "3600"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_TRUE(o->persistent);
  EXPECT_EQ(o->session_expiry, 3600);
  EXPECT_FALSE(Parse({"pairs"})->persistent);
}

}  // namespace
}  // namespace simq::loadgen

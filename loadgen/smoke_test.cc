// Every benchmark scenario (docs/benchmarks.md, S1..S9) for about a second against a freshly
// started //broker, checking correctness only: `loadgen --check` exits 3 on any loss, error,
// QoS 2 duplicate or silent drop, and the JSON verdict must read "ok". Speed is measured by
// tools/bench/run, never here (STYLE §35).

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <signal.h>

#include "fmt/format.h"

#include "broker/testing/ports.h"
#include "broker/testing/process.h"

namespace simq::loadgen {
namespace {

using namespace std::chrono_literals;
using testing::Process;
using testing::TestTempDir;

class LoadgenSmokeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    port_ = testing::PickFreePort();
    const std::string dir = TestTempDir() + "/smoke";
    const std::string config = dir + ".toml";
    testing::WriteFile(config, fmt::format(R"([[listeners]]
type = "tcp"
bind = "127.0.0.1"
port = {}

[sys]
interval_seconds = 1
)",
                                           port_));
    broker_ = new Process({"broker/broker", "--config", config, "--data-dir", dir},
                          TestTempDir() + "/broker.log");
    ASSERT_TRUE(broker_->ok()) << broker_->error();
    ASSERT_TRUE(testing::WaitForPort(port_, 30s)) << broker_->Log();
  }
  static void TearDownTestSuite() {
    broker_->Kill(SIGTERM);
    delete broker_;
    broker_ = nullptr;
  }

  // Runs loadgen with `args` against the broker; the test fails unless it exits 0 with the
  // verdict "ok". Returns the JSON summary.
  std::string RunLoadgen(const std::string& name, std::vector<std::string> args) {
    const std::string json = TestTempDir() + "/" + name + ".json";
    std::vector<std::string> argv = {"loadgen/loadgen"};
    argv.insert(argv.end(), args.begin(), args.end());
    for (const char* a : {"--check", "--quiet", "--drain", "10"}) argv.push_back(a);
    argv.push_back("--host");
    argv.push_back(fmt::format("127.0.0.1:{}", port_));
    argv.push_back("--json");
    argv.push_back(json);
    Process loadgen(argv, TestTempDir() + "/" + name + ".log");
    EXPECT_TRUE(loadgen.ok()) << loadgen.error();
    const std::optional<int> status = loadgen.Wait(120s);
    std::ifstream in(json);
    std::stringstream summary;
    summary << in.rdbuf();
    EXPECT_EQ(status, 0) << loadgen.Log() << summary.str();
    EXPECT_NE(summary.str().find("\"verdict\": \"ok\""), std::string::npos)
        << summary.str() << loadgen.Log();
    EXPECT_TRUE(broker_->running()) << broker_->Log();
    return summary.str();
  }

  static uint16_t port_;
  static Process* broker_;
};

uint16_t LoadgenSmokeTest::port_ = 0;
Process* LoadgenSmokeTest::broker_ = nullptr;

// S1: idle connections, with the broker's memory per connection read from /proc.
TEST_F(LoadgenSmokeTest, S1IdleConnections) {
  const std::string json = RunLoadgen("s1", {"conn", "--conns", "500", "--duration", "0.5",
                                             "--broker-pid", std::to_string(broker_->pid())});
  EXPECT_NE(json.find("\"connections\": 500"), std::string::npos) << json;
  EXPECT_NE(json.find("\"rss_per_connection_bytes\""), std::string::npos) << json;
}

// S2: fan-in, QoS 0, closed loop.
TEST_F(LoadgenSmokeTest, S2FanInQos0) {
  RunLoadgen("s2", {"fanin", "--pubs", "10", "--window", "1000", "--duration", "1"});
}

// S3: fan-out, QoS 0, closed loop.
TEST_F(LoadgenSmokeTest, S3FanOutQos0) {
  RunLoadgen("s3", {"fanout", "--subs", "100", "--window", "100", "--duration", "1"});
}

// S4: pairs, QoS 1, 1 KB, MQTT 5.
TEST_F(LoadgenSmokeTest, S4PairsQos1Mqtt5) {
  RunLoadgen("s4", {"pairs", "--pubs", "50", "--qos", "1", "--mqtt", "5", "--payload", "1024",
                    "--window", "16", "--duration", "1"});
}

// S5: pairs, QoS 2: no loss, no duplicates, nothing acknowledged and then dropped.
TEST_F(LoadgenSmokeTest, S5PairsQos2) {
  RunLoadgen("s5", {"pairs", "--pubs", "50", "--qos", "2", "--window", "64", "--duration", "1"});
}

// Issue 4's row: persistent QoS 1 sessions, so the broker's durable store is on the path.
TEST_F(LoadgenSmokeTest, PersistentQos1Pairs) {
  RunLoadgen("persistent", {"pairs", "--pubs", "10", "--qos", "1", "--mqtt", "5", "--persistent",
                            "--session-expiry", "300", "--window", "16", "--duration", "1"});
}

// S6: latency at a fixed rate.
TEST_F(LoadgenSmokeTest, S6FixedRateLatency) {
  const std::string json = RunLoadgen("s6", {"pairs", "--pubs", "50", "--qos", "1", "--payload",
                                             "256", "--rate", "20", "--duration", "1"});
  EXPECT_NE(json.find("\"p99\""), std::string::npos);
}

// S7: a shared subscription group: every message to exactly one member.
TEST_F(LoadgenSmokeTest, S7SharedSubscription) {
  RunLoadgen("s7",
             {"shared", "--pubs", "10", "--subs", "5", "--window", "1000", "--duration", "1"});
}

// S8: many distinct wildcard subscriptions.
TEST_F(LoadgenSmokeTest, S8ManySubscriptions) {
  RunLoadgen("s8", {"pairs", "--pubs", "10", "--subscriptions", "10000", "--window", "100",
                    "--duration", "1"});
}

// S9: a slow consumer beside fast ones. Its losses are expected (counted, reported as
// "slow"); the fast subscriber must lose nothing, and the probes must get their answers.
TEST_F(LoadgenSmokeTest, S9SlowConsumer) {
  const std::string json = RunLoadgen(
      "s9", {"fanin", "--pubs", "10", "--window", "1000", "--slow-subs", "1", "--slow-rate",
             "200000", "--probes", "2", "--sys-stats", "--duration", "1"});
  EXPECT_NE(json.find("\"probe_us\""), std::string::npos) << json;
  EXPECT_NE(json.find("$SYS/broker/publish/messages/dropped"), std::string::npos) << json;
}

// Topic aliases both ways, and two load-generator threads.
TEST_F(LoadgenSmokeTest, TopicAliasesAndThreads) {
  RunLoadgen("alias", {"pairs", "--pubs", "10", "--mqtt", "5", "--topic-alias", "--qos", "1",
                       "--window", "100", "--threads", "2", "--duration", "1"});
}

}  // namespace
}  // namespace simq::loadgen

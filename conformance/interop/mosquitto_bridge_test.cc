// Interop: a Mosquitto broker (Debian 12's /usr/sbin/mosquitto, 2.0.11) bridged to a freshly
// started simq in both directions, with bridge_protocol_version mqttv311 and mqttv50.
//
//   end clients ──> mosquitto ══ bridge (a client of simq, cleansession false) ══> simq <── end
//   clients
//
// The bridge's topics (see BridgeConfig): from-simq/# in, from-mosquitto/# out, both/# both, and
// ready/# in, last, for the readiness probe (WaitBridgeReady). End clients are Debian's
// mosquitto_pub / mosquitto_sub (mosquitto_clients.h), one set per broker. Tests wait on what
// the clients print, never on fixed sleeps, except where a test shows that something does NOT
// arrive.
//
// try_private is false: simq is not a Mosquitto and does not take the "bridge" bit in the
// protocol level (0x80 | 4); see README.md for what simq answers instead.

#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include <signal.h>
#include <unistd.h>

#include "fmt/format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "broker/testing/ports.h"
#include "broker/testing/process.h"
#include "conformance/interop/mosquitto_clients.h"
#include "conformance/interop/simq_process.h"

namespace simq::interop {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

constexpr char kMosquitto[] = "/usr/sbin/mosquitto";
// Mosquitto notices a lost bridge connection at once but retries only every few seconds.
constexpr auto kReconnect = 20s;

// One run of the suite: the bridge's protocol, and the one its end clients speak.
struct BridgeVersion {
  std::string bridge_protocol;  // bridge_protocol_version
  std::string client_version;   // mosquitto_pub/sub -V
  bool v5() const { return client_version == "mqttv5"; }
};

void PrintTo(const BridgeVersion& version, std::ostream* os) {
  *os << version.bridge_protocol;
}

// A Mosquitto broker with one bridge to simq, on a loopback port that stays the same across
// Restart(), with its persistence file in the test's temp dir. Owned by one test, on its thread.
class BridgedMosquitto {
 public:
  BridgedMosquitto(BridgeVersion version, uint16_t simq_port)
      : version_(std::move(version)), simq_port_(simq_port), bridge_id_(UniqueName("bridge")) {}

  // Writes the configuration and starts Mosquitto, which connects the bridge at once.
  bool Start() {
    if (::access(kMosquitto, X_OK) != 0) {
      error_ = std::string(kMosquitto) +
               " is missing: Debian package 'mosquitto'; tools/setup installs it";
      return false;
    }
    dir_ = fmt::format("{}/{}", testing::TestTempDir(), bridge_id_);
    std::filesystem::create_directories(dir_);
    for (int attempt = 0; attempt < 3; ++attempt) {
      port_ = testing::PickFreePort();
      testing::WriteFile(dir_ + "/mosquitto.conf", BridgeConfig());
      if (Launch()) return true;
    }
    return false;
  }

  // Signals Mosquitto and reaps it: SIGTERM saves its persistence and closes the bridge with
  // DISCONNECT; SIGKILL is a crash.
  void Kill(int signal) {
    if (process_) process_->Kill(signal);
  }

  // Starts it again with the same configuration and persistence (after Kill()).
  bool Restart() { return Launch(); }

  uint16_t port() const { return port_; }
  const std::string& bridge_id() const { return bridge_id_; }
  // Where the bridge publishes "1" (retained) on connecting; its will there is "0".
  std::string state_topic() const { return "bridges/" + bridge_id_ + "/state"; }
  const std::string& error() const { return error_; }

  // Every run's log.
  std::string Log() const {
    std::string log;
    for (const auto& run : runs_) log += fmt::format("--- {}\n{}", run->log_path(), run->Log());
    return log;
  }

 private:
  std::string BridgeConfig() const {
    return fmt::format(
        "listener {port} 127.0.0.1\n"
        "allow_anonymous true\n"
        // Started as root, Mosquitto would switch to user `mosquitto` and lose the temp dir.
        "user root\n"
        "persistence true\n"
        "persistence_location {dir}/\n"
        "log_dest stderr\n"
        "log_type all\n"
        "connection simq\n"
        "address 127.0.0.1:{simq_port}\n"
        "bridge_protocol_version {protocol}\n"
        "try_private false\n"
        "cleansession false\n"
        "clientid {id}\n"
        "restart_timeout 1\n"
        "notification_topic bridges/{id}/state\n"
        "topic from-mosquitto/# out 2\n"
        "topic from-simq/# in 2\n"
        "topic both/# both 2\n"
        // Subscribed last: when a retained ready/ message from simq arrives, every other
        // subscription of the bridge is in place.
        "topic ready/# in 1\n",
        fmt::arg("port", port_), fmt::arg("dir", dir_), fmt::arg("simq_port", simq_port_),
        fmt::arg("protocol", version_.bridge_protocol), fmt::arg("id", bridge_id_));
  }

  bool Launch() {
    auto process = std::make_unique<testing::Process>(
        std::vector<std::string>{kMosquitto, "-c", dir_ + "/mosquitto.conf"},
        fmt::format("{}/mosquitto-{}.log", dir_, runs_.size()));
    process_ = process.get();
    runs_.push_back(std::move(process));
    if (!process_->ok()) {
      error_ = process_->error();
      return false;
    }
    if (testing::WaitForPort(port_, 10s) && process_->running()) return true;
    process_->Kill(SIGKILL);
    error_ = "mosquitto did not start listening:\n" + Log();
    return false;
  }

  BridgeVersion version_;
  uint16_t simq_port_;
  std::string bridge_id_;
  std::string dir_;
  uint16_t port_ = 0;
  std::vector<std::unique_ptr<testing::Process>> runs_;
  testing::Process* process_ = nullptr;  // the current run
  std::string error_;
};

class MosquittoBridgeTest : public ::testing::TestWithParam<BridgeVersion> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(MosquittoClientsInstalled());
    ASSERT_TRUE(simq_.Start()) << simq_.error();
    simq_cli_.emplace(simq_.port());
  }

  void TearDown() override {
    if (mosquitto_) mosquitto_->Kill(SIGTERM);
    if (std::optional<int> status = simq_.Stop()) {
      EXPECT_EQ(*status, 0) << "simq did not shut down cleanly on SIGTERM";
    }
    if (HasFailure()) {
      std::cout << "simq log:\n" << simq_.Log() << std::endl;
      if (mosquitto_) std::cout << "mosquitto logs:\n" << mosquitto_->Log() << std::endl;
    }
  }

  const std::string& v() const { return GetParam().client_version; }

  // Starts Mosquitto with its bridge to simq and waits until the bridge carries messages.
  void StartBridge() {
    mosquitto_.emplace(GetParam(), simq_.port());
    ASSERT_TRUE(mosquitto_->Start()) << mosquitto_->error();
    mosquitto_cli_.emplace(mosquitto_->port());
    WaitBridgeReady();
  }

  // Waits until the bridge is connected and subscribed: a retained message on a fresh ready/
  // topic in simq reaches a subscriber at Mosquitto. The bridge's last subscription brings it:
  // live if it is in place already, else as a retained message when it comes [MQTT-3.3.1-6].
  void WaitBridgeReady() {
    const std::string topic = "ready/" + UniqueName("probe");
    auto probe = mosquitto().Subscribed(v(), {"-q", "1", "-C", "1", "-t", topic});
    simq().Pub(v(), {"-r", "-q", "1", "-t", topic, "-m", "up"});
    ASSERT_TRUE(WaitFor([&] { return probe->Messages().size() == 1; }, kReconnect))
        << "the bridge did not bring a message from simq to mosquitto within " << kReconnect.count()
        << " s\n"
        << probe->Output();
  }

  const MosquittoClients& simq() const { return *simq_cli_; }
  const MosquittoClients& mosquitto() const { return *mosquitto_cli_; }

  SimqProcess simq_;
  std::optional<MosquittoClients> simq_cli_;
  std::optional<BridgedMosquitto> mosquitto_;
  std::optional<MosquittoClients> mosquitto_cli_;
};

INSTANTIATE_TEST_SUITE_P(Bridge, MosquittoBridgeTest,
                         ::testing::Values(BridgeVersion{"mqttv311", "mqttv311"},
                                           BridgeVersion{"mqttv50", "mqttv5"}),
                         [](const auto& info) { return info.param.bridge_protocol; });

// QoS 0, 1 and 2 from simq to Mosquitto and from Mosquitto to simq, each acknowledged by the
// broker it was published to and delivered at its QoS (the bridge topics are QoS 2).
TEST_P(MosquittoBridgeTest, MessagesFlowBothWaysAtQoS012) {
  StartBridge();
  auto at_mosquitto = mosquitto().Subscribed(v(), {"-q", "2", "-t", "from-simq/#"});
  auto at_simq = simq().Subscribed(v(), {"-q", "2", "-t", "from-mosquitto/#"});

  for (const MosquittoClients* cli : {&simq(), &mosquitto()}) {
    const std::string from = cli == &simq() ? "from-simq" : "from-mosquitto";
    cli->Pub(v(), {"-q", "0", "-t", from + "/0", "-m", "at 0"});
    EXPECT_THAT(cli->Pub(v(), {"-q", "1", "-t", from + "/1", "-m", "at 1"}),
                HasSubstr("received PUBACK (Mid: 1, RC:0)"));
    EXPECT_THAT(cli->Pub(v(), {"-q", "2", "-t", from + "/2", "-m", "at 2"}),
                HasSubstr("received PUBCOMP (Mid: 1, RC:0)"));
  }
  ASSERT_TRUE(at_mosquitto->WaitMessages(3)) << at_mosquitto->Output();
  EXPECT_THAT(at_mosquitto->Messages(),
              UnorderedElementsAre("MSG r=0 q=0 from-simq/0 at 0", "MSG r=0 q=1 from-simq/1 at 1",
                                   "MSG r=0 q=2 from-simq/2 at 2"));
  ASSERT_TRUE(at_simq->WaitMessages(3)) << at_simq->Output();
  EXPECT_THAT(at_simq->Messages(), UnorderedElementsAre("MSG r=0 q=0 from-mosquitto/0 at 0",
                                                        "MSG r=0 q=1 from-mosquitto/1 at 1",
                                                        "MSG r=0 q=2 from-mosquitto/2 at 2"));
}

// A `both` topic: what is published on either side reaches subscribers on both. The bridge's
// subscription in simq matches its own publishes: with MQTT 5 it sets No Local (options 0x0c),
// which simq honours [MQTT-3.8.3-3], so nothing comes back; MQTT 3.1.1 has no No Local, so
// simq rightly sends the bridge its own message back once, and Mosquitto delivers that copy
// too (it does not loop further: its own bridge subscription is No Local).
TEST_P(MosquittoBridgeTest, BothDirectionTopic) {
  StartBridge();
  auto at_mosquitto = mosquitto().Subscribed(v(), {"-q", "2", "-t", "both/#"});
  auto at_simq = simq().Subscribed(v(), {"-q", "2", "-t", "both/#"});
  simq().Pub(v(), {"-q", "1", "-t", "both/a", "-m", "published on simq"});
  mosquitto().Pub(v(), {"-q", "1", "-t", "both/b", "-m", "published on mosquitto"});

  ASSERT_TRUE(at_simq->WaitMessages(2)) << at_simq->Output();
  const size_t at_mosquitto_count = GetParam().v5() ? 2 : 3;
  ASSERT_TRUE(at_mosquitto->WaitMessages(at_mosquitto_count)) << at_mosquitto->Output();
  std::this_thread::sleep_for(500ms);  // nothing more may come
  EXPECT_THAT(at_simq->Messages(),
              UnorderedElementsAre("MSG r=0 q=1 both/a published on simq",
                                   "MSG r=0 q=1 both/b published on mosquitto"));
  if (GetParam().v5()) {
    EXPECT_THAT(at_mosquitto->Messages(),
                UnorderedElementsAre("MSG r=0 q=1 both/a published on simq",
                                     "MSG r=0 q=1 both/b published on mosquitto"));
  } else {
    EXPECT_THAT(at_mosquitto->Messages(),
                UnorderedElementsAre("MSG r=0 q=1 both/a published on simq",
                                     "MSG r=0 q=1 both/b published on mosquitto",
                                     "MSG r=0 q=1 both/b published on mosquitto"));
  }
}

// Retained messages cross the bridge both ways:
// - retained in simq before the bridge subscribes: it gets them with RETAIN 1 [MQTT-3.3.1-6],
//   so Mosquitto retains them too;
// - retained at Mosquitto: the bridge publishes them to simq with RETAIN 1, simq retains them
//   [MQTT-3.3.1-5] and deletes them on an empty retained message [MQTT-3.3.1-10];
// - retained in simq while the bridge is subscribed: MQTT 5's bridge subscribes with Retain As
//   Published, so simq keeps RETAIN 1 [MQTT-3.3.1-13] and Mosquitto retains it; over MQTT
//   3.1.1 simq must clear it [MQTT-3.3.1-9], so Mosquitto does not retain it.
TEST_P(MosquittoBridgeTest, RetainedMessagesCrossTheBridge) {
  simq().Pub(v(), {"-r", "-q", "1", "-t", "from-simq/early", "-m", "retained before"});
  StartBridge();
  auto early = mosquitto().Sub(v(), {"-q", "2", "-C", "1", "-W", "10", "-t", "from-simq/early"});
  EXPECT_EQ(early->process().Wait(kArrive), 0) << early->Output();
  EXPECT_THAT(early->Messages(), ElementsAre("MSG r=1 q=1 from-simq/early retained before"));

  auto live_simq = simq().Subscribed(v(), {"-q", "2", "-t", "from-mosquitto/#"});
  mosquitto().Pub(v(), {"-r", "-q", "2", "-t", "from-mosquitto/kept", "-m", "retained"});
  ASSERT_TRUE(live_simq->WaitMessages(1)) << live_simq->Output();
  auto late_simq = simq().Sub(v(), {"-q", "2", "-C", "1", "-W", "10", "-t", "from-mosquitto/kept"});
  EXPECT_EQ(late_simq->process().Wait(kArrive), 0) << late_simq->Output();
  EXPECT_THAT(late_simq->Messages(), ElementsAre("MSG r=1 q=2 from-mosquitto/kept retained"));
  mosquitto().Pub(v(), {"-r", "-q", "1", "-t", "from-mosquitto/kept", "-n"});
  ASSERT_TRUE(live_simq->WaitMessages(2)) << live_simq->Output();  // the deletion went through
  auto none = simq().Sub(v(), {"-q", "1", "-C", "1", "-W", "1", "-t", "from-mosquitto/kept"});
  EXPECT_EQ(none->process().Wait(kArrive), 27) << "still retained in simq:\n" << none->Output();

  auto live_mosquitto = mosquitto().Subscribed(v(), {"-q", "2", "-t", "from-simq/live"});
  simq().Pub(v(), {"-r", "-q", "1", "-t", "from-simq/live", "-m", "retained while bridged"});
  ASSERT_TRUE(live_mosquitto->WaitMessages(1)) << live_mosquitto->Output();
  auto late_mosquitto =
      mosquitto().Sub(v(), {"-q", "1", "-C", "1", "-W", "1", "-t", "from-simq/live"});
  if (GetParam().v5()) {
    EXPECT_EQ(late_mosquitto->process().Wait(kArrive), 0) << late_mosquitto->Output();
    EXPECT_THAT(late_mosquitto->Messages(),
                ElementsAre("MSG r=1 q=1 from-simq/live retained while bridged"));
  } else {
    EXPECT_EQ(late_mosquitto->process().Wait(kArrive), 27) << late_mosquitto->Output();
  }
}

// Wills cross the bridge (an end client killed at either side: its will reaches the other
// side), and the bridge's own will: when Mosquitto dies, simq publishes the "0" the bridge
// left as its will on its notification topic [MQTT-3.1.2-8], retained.
TEST_P(MosquittoBridgeTest, WillsCrossTheBridgeAndTheBridgeHasItsOwn) {
  StartBridge();
  auto at_simq = simq().Subscribed(v(), {"-q", "2", "-t", "from-mosquitto/will"});
  auto at_mosquitto = mosquitto().Subscribed(v(), {"-q", "2", "-t", "from-simq/will"});

  auto on_mosquitto = mosquitto().Subscribed(
      v(), {"-t", "from-mosquitto/dummy", "--will-topic", "from-mosquitto/will", "--will-payload",
            "gone", "--will-qos", "1"});
  auto on_simq = simq().Subscribed(v(), {"-t", "from-simq/dummy", "--will-topic", "from-simq/will",
                                         "--will-payload", "gone", "--will-qos", "2"});
  on_mosquitto->process().Kill(SIGKILL);
  on_simq->process().Kill(SIGKILL);
  ASSERT_TRUE(at_simq->WaitMessages(1)) << at_simq->Output();
  EXPECT_THAT(at_simq->Messages(), ElementsAre("MSG r=0 q=1 from-mosquitto/will gone"));
  ASSERT_TRUE(at_mosquitto->WaitMessages(1)) << at_mosquitto->Output();
  EXPECT_THAT(at_mosquitto->Messages(), ElementsAre("MSG r=0 q=2 from-simq/will gone"));

  auto state = simq().Subscribed(v(), {"-q", "1", "-t", mosquitto_->state_topic()});
  ASSERT_TRUE(state->WaitMessages(1)) << state->Output();
  EXPECT_THAT(state->Messages(), ElementsAre("MSG r=1 q=1 " + mosquitto_->state_topic() + " 1"));
  mosquitto_->Kill(SIGKILL);
  ASSERT_TRUE(state->WaitMessages(2)) << state->Output();
  EXPECT_EQ(state->Messages()[1], "MSG r=0 q=1 " + mosquitto_->state_topic() + " 0");
  auto later = simq().Sub(v(), {"-q", "1", "-C", "1", "-W", "10", "-t", mosquitto_->state_topic()});
  EXPECT_EQ(later->process().Wait(kArrive), 0) << later->Output();
  EXPECT_THAT(later->Messages(), ElementsAre("MSG r=1 q=1 " + mosquitto_->state_topic() + " 0"));
}

// A shared subscription in simq, fed through the bridge: each message once to one member of the
// group [MQTT 5 4.8.2], every one to a plain subscriber.
TEST_P(MosquittoBridgeTest, SharedSubscriptionInSimqFedByTheBridge) {
  StartBridge();
  const std::string group = "$share/" + UniqueName("group") + "/from-mosquitto/shared";
  auto a = simq().Subscribed(v(), {"-q", "1", "-t", group});
  auto b = simq().Subscribed(v(), {"-q", "1", "-t", group});
  auto plain = simq().Subscribed(v(), {"-q", "1", "-t", "from-mosquitto/shared"});
  constexpr int kMessages = 10;
  std::vector<std::string> expected;
  for (int i = 0; i < kMessages; ++i) {
    mosquitto().Pub(v(), {"-q", "1", "-t", "from-mosquitto/shared", "-m", std::to_string(i)});
    expected.push_back(fmt::format("MSG r=0 q=1 from-mosquitto/shared {}", i));
  }
  ASSERT_TRUE(plain->WaitMessages(kMessages)) << plain->Output();
  ASSERT_TRUE(
      WaitFor([&] { return a->Messages().size() + b->Messages().size() >= kMessages; }, kArrive))
      << a->Output() << b->Output();
  std::this_thread::sleep_for(500ms);  // nothing more may come
  std::vector<std::string> group_got = a->Messages();
  for (const std::string& m : b->Messages()) group_got.push_back(m);
  EXPECT_THAT(group_got, ::testing::UnorderedElementsAreArray(expected));
  EXPECT_THAT(plain->Messages(), ::testing::ElementsAreArray(expected));
}

// simq restarts (SIGTERM, then the same port and data directory): the bridge reconnects and
// messages flow both ways again, including the QoS 1 message published at Mosquitto while simq
// was down, which Mosquitto kept for its bridge (cleansession false). What simq keeps of the
// bridge's session across its restart is BridgeSessionInSimqAcrossRestarts' subject.
TEST_P(MosquittoBridgeTest, BridgeReconnectsAfterSimqRestarts) {
  StartBridge();
  const auto stopped_at = std::chrono::steady_clock::now();
  EXPECT_EQ(simq_.Stop(), 0) << "simq did not shut down cleanly on SIGTERM";
  mosquitto().Pub(v(), {"-r", "-q", "1", "-t", "from-mosquitto/while-down", "-m", "kept"});
  ASSERT_TRUE(simq_.StartAgain()) << simq_.error();

  WaitBridgeReady();
  std::cout << "the bridge carried messages again "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - stopped_at)
                   .count()
            << " ms after simq stopped" << std::endl;
  auto kept =
      simq().Sub(v(), {"-q", "1", "-C", "1", "-W", "10", "-t", "from-mosquitto/while-down"});
  EXPECT_EQ(kept->process().Wait(kArrive), 0) << kept->Output();
  EXPECT_THAT(kept->Messages(), ElementsAre("MSG r=1 q=1 from-mosquitto/while-down kept"));

  auto at_mosquitto = mosquitto().Subscribed(v(), {"-q", "2", "-t", "from-simq/#"});
  auto at_simq = simq().Subscribed(v(), {"-q", "2", "-t", "from-mosquitto/again"});
  simq().Pub(v(), {"-q", "2", "-t", "from-simq/again", "-m", "after restart"});
  mosquitto().Pub(v(), {"-q", "2", "-t", "from-mosquitto/again", "-m", "after restart"});
  ASSERT_TRUE(at_mosquitto->WaitMessages(1)) << at_mosquitto->Output();
  EXPECT_THAT(at_mosquitto->Messages(), ElementsAre("MSG r=0 q=2 from-simq/again after restart"));
  ASSERT_TRUE(at_simq->WaitMessages(1)) << at_simq->Output();
  EXPECT_THAT(at_simq->Messages(), ElementsAre("MSG r=0 q=2 from-mosquitto/again after restart"));
}

// Mosquitto stops (SIGTERM, which saves its persistence and DISCONNECTs the bridge), messages
// for it are published in simq, then simq restarts too (SIGTERM, same data directory: its
// durable store keeps sessions and queues) before Mosquitto comes back. Over MQTT 3.1.1 the
// bridge's session in simq (Clean Session 0) resumes: simq delivers the QoS 1 and 2 messages it
// queued, in order [MQTT-3.1.2-4, MQTT-4.6.0-6], and they reach a persistent subscriber at
// Mosquitto. Mosquitto 2.0.11's MQTT 5 bridge sends no Session Expiry Interval, so its session
// in simq ends with the connection (MQTT 5 3.1.2.11.2) and those messages are rightly gone.
TEST_P(MosquittoBridgeTest, BridgeSessionInSimqAcrossRestarts) {
  StartBridge();
  const std::string end_id = UniqueName("end");
  // A persistent session at Mosquitto (-c; for MQTT 5 mosquitto_sub then asks for a session
  // that does not expire), ended abruptly: Mosquitto queues what comes for it.
  const std::vector<std::string> end_sub = {"-c", "-i", end_id, "-q", "2", "-t", "from-simq/#"};
  mosquitto().Subscribed(v(), end_sub)->process().Kill(SIGKILL);

  mosquitto_->Kill(SIGTERM);
  simq().Pub(v(), {"-q", "1", "-t", "from-simq/queued/1", "-m", "while mosquitto was down"});
  simq().Pub(v(), {"-q", "2", "-t", "from-simq/queued/2", "-m", "while mosquitto was down"});
  EXPECT_EQ(simq_.Stop(), 0) << "simq did not shut down cleanly on SIGTERM";
  ASSERT_TRUE(simq_.StartAgain()) << simq_.error();
  ASSERT_TRUE(mosquitto_->Restart()) << mosquitto_->error();
  WaitBridgeReady();
  simq().Pub(v(), {"-q", "2", "-t", "from-simq/marker", "-m", "after the restart"});

  auto end = mosquitto().Sub(v(), end_sub);
  ASSERT_TRUE(WaitFor(
      [&] { return end->Output().find("from-simq/marker after the restart") != std::string::npos; },
      kArrive))
      << end->Output();
  if (GetParam().v5()) {
    EXPECT_THAT(end->Messages(), ElementsAre("MSG r=0 q=2 from-simq/marker after the restart"));
  } else {
    EXPECT_THAT(end->Messages(),
                ElementsAre("MSG r=0 q=1 from-simq/queued/1 while mosquitto was down",
                            "MSG r=0 q=2 from-simq/queued/2 while mosquitto was down",
                            "MSG r=0 q=2 from-simq/marker after the restart"));
  }
}

}  // namespace
}  // namespace simq::interop

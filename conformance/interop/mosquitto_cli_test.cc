// Interop: Debian's mosquitto_pub / mosquitto_sub (Mosquitto 2.0, package mosquitto-clients)
// against a freshly started simq broker, MQTT 3.1, 3.1.1 and 5.0.
//
// The clients come from mosquitto_clients.h: every one runs with -d, so a test sees the packets
// it exchanged ("received PUBACK (Mid: 1, RC:0)") as well as what it printed; subscribers print
// each message as one "MSG r=<retain> q=<qos> <topic> <payload>" line. Tests wait on what the
// clients print, never on fixed sleeps, except where a test shows that something does NOT
// arrive.

#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <signal.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "conformance/interop/mosquitto_clients.h"
#include "conformance/interop/simq_process.h"

namespace simq::interop {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

class MosquittoCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(MosquittoClientsInstalled());
    ASSERT_TRUE(broker_.Start()) << broker_.error();
    cli_.emplace(broker_.port());
  }

  void TearDown() override {
    if (std::optional<int> status = broker_.Stop()) {
      EXPECT_EQ(*status, 0) << "the broker did not shut down cleanly on SIGTERM";
    }
    if (HasFailure()) std::cout << "simq broker log:\n" << broker_.Log() << std::endl;
  }

  std::string Pub(const std::string& version, const std::vector<std::string>& args) {
    return cli_->Pub(version, args);
  }
  std::unique_ptr<CliClient> Sub(const std::string& version, const std::vector<std::string>& args,
                                 const std::string& format = kMessageFormat) {
    return cli_->Sub(version, args, format);
  }
  std::unique_ptr<CliClient> Subscribed(const std::string& version,
                                        const std::vector<std::string>& args,
                                        const std::string& format = kMessageFormat) {
    return cli_->Subscribed(version, args, format);
  }

  SimqProcess broker_;
  std::optional<MosquittoClients> cli_;  // once broker_ has its port
};

// ---- For each protocol version ----------------------------------------------------------------

class MosquittoCliVersionTest : public MosquittoCliTest,
                                public ::testing::WithParamInterface<std::string> {};

INSTANTIATE_TEST_SUITE_P(Versions, MosquittoCliVersionTest,
                         ::testing::Values("mqttv31", "mqttv311", "mqttv5"),
                         [](const auto& info) { return info.param; });

// QoS 0/1/2 publishes, acknowledged with success and delivered at min(published, granted) QoS.
TEST_P(MosquittoCliVersionTest, PublishesAndDeliversAtQoS012) {
  const std::string v = GetParam();
  const std::string base = UniqueName("t");
  auto sub2 = Subscribed(v, {"-q", "2", "-t", base + "/#"});
  auto sub1 = Subscribed(v, {"-q", "1", "-t", base + "/+"});

  Pub(v, {"-q", "0", "-t", base + "/0", "-m", "at 0"});
  EXPECT_THAT(Pub(v, {"-q", "1", "-t", base + "/1", "-m", "at 1"}),
              HasSubstr("received PUBACK (Mid: 1, RC:0)"));
  const std::string qos2 = Pub(v, {"-q", "2", "-t", base + "/2", "-m", "at 2"});
  EXPECT_THAT(qos2, HasSubstr("received PUBREC (Mid: 1)"));
  EXPECT_THAT(qos2, HasSubstr("received PUBCOMP (Mid: 1, RC:0)"));

  ASSERT_TRUE(sub2->WaitMessages(3)) << sub2->Output();
  EXPECT_THAT(sub2->Messages(), UnorderedElementsAre("MSG r=0 q=0 " + base + "/0 at 0",
                                                     "MSG r=0 q=1 " + base + "/1 at 1",
                                                     "MSG r=0 q=2 " + base + "/2 at 2"));
  ASSERT_TRUE(sub1->WaitMessages(3)) << sub1->Output();
  EXPECT_THAT(sub1->Messages(), UnorderedElementsAre("MSG r=0 q=0 " + base + "/0 at 0",
                                                     "MSG r=0 q=1 " + base + "/1 at 1",
                                                     "MSG r=0 q=1 " + base + "/2 at 2"));
}

// A retained message reaches a later subscriber with the retain flag set; an empty retained
// message (-n) deletes it.
TEST_P(MosquittoCliVersionTest, RetainedMessageReachesLaterSubscriber) {
  const std::string v = GetParam();
  const std::string topic = UniqueName("t");
  Pub(v, {"-r", "-q", "1", "-t", topic, "-m", "kept"});

  auto late = Sub(v, {"-q", "2", "-C", "1", "-W", "10", "-t", topic});
  EXPECT_EQ(late->process().Wait(kArrive), 0) << late->Output();
  EXPECT_THAT(late->Messages(), ElementsAre("MSG r=1 q=1 " + topic + " kept"));

  Pub(v, {"-r", "-q", "1", "-t", topic, "-n"});
  // Nothing retained any more: the subscriber times out (exit status 27) without a message.
  auto none = Sub(v, {"-q", "1", "-C", "1", "-W", "1", "-t", topic});
  EXPECT_EQ(none->process().Wait(kArrive), 27) << none->Output();
  EXPECT_THAT(none->Messages(), IsEmpty());
}

// The will is published when the client dies without DISCONNECT (SIGKILL), and not when it
// disconnects normally.
TEST_P(MosquittoCliVersionTest, WillOnAbnormalExitOnly) {
  const std::string v = GetParam();
  const std::string will = UniqueName("will");
  auto watcher = Subscribed(v, {"-q", "1", "-t", will});

  // -E: subscribe, then DISCONNECT and exit. Its will must be discarded.
  auto polite = Sub(v, {"-E", "-t", will + "/dummy", "--will-topic", will, "--will-payload",
                        "polite", "--will-qos", "1"});
  EXPECT_EQ(polite->process().Wait(kArrive), 0) << polite->Output();
  EXPECT_THAT(polite->Output(), HasSubstr("sending DISCONNECT"));

  auto rude = Subscribed(v, {"-t", will + "/dummy", "--will-topic", will, "--will-payload", "rude",
                             "--will-qos", "1"});
  rude->process().Kill(SIGKILL);

  ASSERT_TRUE(watcher->WaitMessages(1)) << watcher->Output();
  EXPECT_THAT(watcher->Messages(), ElementsAre("MSG r=0 q=1 " + will + " rude"));
}

// Each message published to a $share group reaches exactly one of its two members, while a
// plain subscriber to the same topic gets every one [MQTT 5 4.8.2; simq offers $share to 3.1
// and 3.1.1 clients too].
TEST_P(MosquittoCliVersionTest, SharedSubscriptionDeliversEachMessageOnce) {
  const std::string v = GetParam();
  const std::string topic = UniqueName("shared");
  const std::string group = "$share/" + UniqueName("group") + "/" + topic;
  auto first = Subscribed(v, {"-q", "1", "-t", group});
  auto second = Subscribed(v, {"-q", "1", "-t", group});
  auto plain = Subscribed(v, {"-q", "1", "-t", topic});

  constexpr int kMessages = 10;
  std::vector<std::string> expected;
  for (int i = 0; i < kMessages; ++i) {
    Pub(v, {"-q", "1", "-t", topic, "-m", std::to_string(i)});
    expected.push_back("MSG r=0 q=1 " + topic + " " + std::to_string(i));
  }
  ASSERT_TRUE(plain->WaitMessages(kMessages)) << plain->Output();
  EXPECT_EQ(plain->Messages(), expected);
  auto group_messages = [&] {
    std::vector<std::string> all = first->Messages();
    for (std::string& line : second->Messages()) all.push_back(std::move(line));
    return all;
  };
  ASSERT_TRUE(WaitFor([&] { return group_messages().size() >= kMessages; }, kArrive))
      << first->Output() << second->Output();
  // Nothing more comes: no message went to both members.
  std::this_thread::sleep_for(500ms);
  EXPECT_THAT(group_messages(), ::testing::UnorderedElementsAreArray(expected));
}

// A persistent session (-c: 3.1/3.1.1 Clean Session 0; 5.0 Clean Start 0 with a Session Expiry
// Interval that does not end) resumes with its subscription: what was published at QoS 1 and 2
// while the client was away arrives, in the order published [MQTT-4.6.0-6], after a normal
// DISCONNECT and after the client was killed. A clean connect with the same client id ends it.
TEST_P(MosquittoCliVersionTest, PersistentSessionResumes) {
  const std::string v = GetParam();
  // MQTT 3.1 allows at most 23 characters [MQTT 3.1 3.1]; each test has its own broker.
  const std::string id = "persistent-" + v;
  const std::string base = UniqueName("t");
  const std::vector<std::string> session = {"-c", "-i", id, "-q", "2", "-t", base + "/#"};
  // -E: connect, subscribe, DISCONNECT.
  auto setup = Sub(v, {"-c", "-i", id, "-q", "2", "-t", base + "/#", "-E"});
  ASSERT_EQ(setup->process().Wait(kArrive), 0) << setup->Output();

  Pub(v, {"-q", "1", "-t", base + "/0", "-m", "queued 0"});
  Pub(v, {"-q", "2", "-t", base + "/1", "-m", "queued 1"});
  Pub(v, {"-q", "1", "-t", base + "/2", "-m", "queued 2"});
  auto resumed = Sub(v, session);
  ASSERT_TRUE(resumed->WaitMessages(3)) << resumed->Output();
  // libmosquitto prints a QoS 2 message at its PUBREL, so the order on the wire is in the debug
  // lines ("received PUBLISH (d0, q1, r0, m1, '<topic>', ...").
  EXPECT_THAT(resumed->Messages(), UnorderedElementsAre("MSG r=0 q=1 " + base + "/0 queued 0",
                                                        "MSG r=0 q=2 " + base + "/1 queued 1",
                                                        "MSG r=0 q=1 " + base + "/2 queued 2"));
  const std::string out = resumed->Output();
  const size_t at0 = out.find("'" + base + "/0'");
  const size_t at1 = out.find("'" + base + "/1'");
  const size_t at2 = out.find("'" + base + "/2'");
  EXPECT_TRUE(at0 < at1 && at1 < at2 && at2 != std::string::npos)
      << "the queued PUBLISH packets are not in the order published:\n"
      << out;

  // Killed (no DISCONNECT): the session stays and queues again.
  resumed->process().Kill(SIGKILL);
  Pub(v, {"-q", "1", "-t", base + "/3", "-m", "after kill"});
  auto again = Sub(v, session);
  ASSERT_TRUE(again->WaitMessages(1)) << again->Output();
  EXPECT_THAT(again->Messages(), ElementsAre("MSG r=0 q=1 " + base + "/3 after kill"));
  again->process().Kill(SIGKILL);

  // A clean connect (no -c) discards the session: nothing is queued for the id any more.
  auto clean = Sub(v, {"-i", id, "-t", UniqueName("other"), "-E"});
  ASSERT_EQ(clean->process().Wait(kArrive), 0) << clean->Output();
  Pub(v, {"-q", "1", "-t", base + "/4", "-m", "nobody"});
  auto fresh = Sub(v, {"-c", "-i", id, "-q", "2", "-t", base + "/#", "-C", "1", "-W", "1"});
  EXPECT_EQ(fresh->process().Wait(kArrive), 27) << "a message came: " << fresh->Output();
  EXPECT_THAT(fresh->Messages(), IsEmpty());
}

// ---- Across versions and MQTT 5 properties ----------------------------------------------------

// 3.1.1 publisher → 5.0 subscriber and 5.0 publisher → 3.1.1 subscriber, at QoS 2.
TEST_F(MosquittoCliTest, CrossVersionBothWays) {
  const std::string base = UniqueName("t");
  auto v5 = Subscribed("mqttv5", {"-q", "2", "-t", base + "/to5/#"});
  auto v311 = Subscribed("mqttv311", {"-q", "2", "-t", base + "/to311/#"});
  auto v31 = Subscribed("mqttv31", {"-q", "2", "-t", base + "/to311/#"});

  Pub("mqttv311", {"-q", "2", "-t", base + "/to5/a", "-m", "from 3.1.1"});
  Pub("mqttv5", {"-q", "2", "-t", base + "/to311/b", "-m", "from 5", "-D", "PUBLISH",
                 "user-property", "k", "v"});
  Pub("mqttv31", {"-q", "1", "-t", base + "/to5/c", "-m", "from 3.1"});

  ASSERT_TRUE(v5->WaitMessages(2)) << v5->Output();
  EXPECT_THAT(v5->Messages(), UnorderedElementsAre("MSG r=0 q=2 " + base + "/to5/a from 3.1.1",
                                                   "MSG r=0 q=1 " + base + "/to5/c from 3.1"));
  ASSERT_TRUE(v311->WaitMessages(1)) << v311->Output();
  EXPECT_THAT(v311->Messages(), ElementsAre("MSG r=0 q=2 " + base + "/to311/b from 5"));
  ASSERT_TRUE(v31->WaitMessages(1)) << v31->Output();
  EXPECT_THAT(v31->Messages(), ElementsAre("MSG r=0 q=2 " + base + "/to311/b from 5"));
}

// User properties (in order, duplicates kept) and the other publish properties arrive
// unchanged at an MQTT 5 subscriber [MQTT-3.3.2-17, MQTT-3.3.2-18].
TEST_F(MosquittoCliTest, PublishPropertiesReachV5Subscriber) {
  const std::string topic = UniqueName("t");
  auto sub = Subscribed("mqttv5", {"-q", "1", "-t", topic}, "MSG %t %p |%P|%C|%R|%D|%F");
  Pub("mqttv5", {"-q",
                 "1",
                 "-t",
                 topic,
                 "-m",
                 "hello",  //
                 "-D",
                 "PUBLISH",
                 "user-property",
                 "k",
                 "v",  //
                 "-D",
                 "PUBLISH",
                 "user-property",
                 "k2",
                 "v 2",  //
                 "-D",
                 "PUBLISH",
                 "user-property",
                 "k",
                 "again",  //
                 "-D",
                 "PUBLISH",
                 "content-type",
                 "text/plain",  //
                 "-D",
                 "PUBLISH",
                 "response-topic",
                 topic + "/reply",  //
                 "-D",
                 "PUBLISH",
                 "correlation-data",
                 "abc",  //
                 "-D",
                 "PUBLISH",
                 "payload-format-indicator",
                 "1"});
  ASSERT_TRUE(sub->WaitMessages(1)) << sub->Output();
  EXPECT_THAT(sub->Messages(), ElementsAre("MSG " + topic + " hello |k:v k2:v 2 k:again|" +
                                           "text/plain|" + topic + "/reply|abc|1"));
}

// MQTT 5 subscription options: the Subscription Identifier comes back with each matching
// message [MQTT-3.3.4-3], and Retain As Published keeps the retain flag of a live message
// [MQTT-3.3.1-13]; without it, the flag is cleared [MQTT-3.3.1-12].
TEST_F(MosquittoCliTest, V5SubscriptionIdentifierAndRetainAsPublished) {
  const std::string topic = UniqueName("t");
  auto rap = Subscribed("mqttv5",
                        {"-q", "1", "-t", topic, "--retain-as-published", "-D", "SUBSCRIBE",
                         "subscription-identifier", "42"},
                        "MSG r=%r S=%S %t %p");
  auto plain = Subscribed("mqttv5", {"-q", "1", "-t", topic}, "MSG r=%r S=%S %t %p");
  Pub("mqttv5", {"-r", "-q", "1", "-t", topic, "-m", "live"});
  Pub("mqttv5", {"-r", "-q", "1", "-t", topic, "-n"});  // leaves no retained message behind

  ASSERT_TRUE(rap->WaitMessages(2)) << rap->Output();
  EXPECT_THAT(rap->Messages(), ElementsAre("MSG r=1 S=42 " + topic + " live",  //
                                           "MSG r=1 S=42 " + topic + " "));
  ASSERT_TRUE(plain->WaitMessages(2)) << plain->Output();
  EXPECT_THAT(plain->Messages(),
              ElementsAre("MSG r=0 S= " + topic + " live", "MSG r=0 S= " + topic + " "));
}

// MQTT 5 will delay: with Will Delay Interval 1 s and a session that outlives the connection,
// the will comes about a second after the client died [MQTT-3.1.2-8, 3.1.3.2.2].
TEST_F(MosquittoCliTest, V5WillDelayInterval) {
  const std::string will = UniqueName("will");
  auto watcher = Subscribed("mqttv5", {"-q", "1", "-t", will});
  auto victim = Subscribed(
      "mqttv5", {"-x", "10", "-D", "WILL", "will-delay-interval", "1", "-t", will + "/dummy",
                 "--will-topic", will, "--will-payload", "delayed", "--will-qos", "1"});
  const auto killed = std::chrono::steady_clock::now();
  victim->process().Kill(SIGKILL);
  ASSERT_TRUE(watcher->WaitMessages(1)) << watcher->Output();
  const auto elapsed = std::chrono::steady_clock::now() - killed;
  EXPECT_THAT(watcher->Messages(), ElementsAre("MSG r=0 q=1 " + will + " delayed"));
  EXPECT_GE(elapsed, 800ms) << "the will came before its 1 s delay";
}

}  // namespace
}  // namespace simq::interop

// PUBLISH properties end to end (MQTT 5 §3.3.2.3): what passes through unchanged, the Payload
// Format Indicator check, and reason strings under Request Problem Information.

#include <gtest/gtest.h>

#include "broker/auth/auth_interface.h"
#include "broker/core/broker.h"
#include "broker/server/test_util.h"
#include "broker/testing/coro.h"

namespace simq::server {
namespace {

using testing::BrokerFixture;
using testing::RunCoroutine;

// Allows everything except publishing under `prefix`. Immutable, hence thread-safe.
class DenyPublishUnder final : public auth::Authorizer {
 public:
  explicit DenyPublishUnder(std::string prefix) : prefix_(std::move(prefix)) {}
  bool CanPublish(const auth::ClientInfo&, std::string_view topic) override {
    return !topic.starts_with(prefix_);
  }
  bool CanSubscribe(const auth::ClientInfo&, std::string_view) override { return true; }

 private:
  const std::string prefix_;
};

core::BrokerOptions DenyingOptions() {
  core::BrokerOptions options;
  options.authorizer = std::make_shared<DenyPublishUnder>("deny/");
  return options;
}

std::vector<protocol::StringPair> UserPairs() {
  // Order matters and duplicates stay [MQTT-3.3.2-17], [MQTT-3.3.2-18].
  return {{"k", "1"}, {"dup", "same"}, {"k", "2"}, {"dup", "same"}, {"empty", ""}};
}

const std::string kCorrelation("\x00\x01\xfe\xff", 4);

protocol::OwnedProperties RichProperties() {
  std::vector<protocol::StringPair> pairs = UserPairs();
  protocol::Properties p;
  p.user_properties = protocol::UserProperties(pairs);
  p.content_type = "application/json; charset=utf-8";
  p.payload_format_indicator = 1;
  p.response_topic = "reply/to/me";
  p.correlation_data = kCorrelation;
  return protocol::OwnedProperties(p);
}

void ExpectRichProperties(const client::Message& m) {
  const protocol::Properties& p = m.properties.view();
  EXPECT_EQ(p.user_properties.ToVector(), UserPairs());
  EXPECT_EQ(p.content_type, "application/json; charset=utf-8");  // [MQTT-3.3.2-20]
  EXPECT_EQ(p.payload_format_indicator, 1);                      // [MQTT-3.3.2-4]
  EXPECT_EQ(p.response_topic, "reply/to/me");                    // [MQTT-3.3.2-15]
  EXPECT_EQ(p.correlation_data, kCorrelation);                   // [MQTT-3.3.2-16]
  EXPECT_EQ(m.payload,
            "{\"temperature\": \"21.5 \xc2\xb0"
            "C\"}");
}

protocol::OwnedProperties ConnectProperties(std::optional<uint8_t> request_problem_information) {
  protocol::Properties p;
  p.request_problem_information = request_problem_information;
  return protocol::OwnedProperties(p);
}

TEST(PropertiesTest, PublishPropertiesPassThroughUnchanged) {
  BrokerFixture broker;
  const protocol::OwnedProperties props = RichProperties();
  const std::string payload =
      "{\"temperature\": \"21.5 \xc2\xb0"
      "C\"}";
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto sub = Client::Create(ex);
    EXPECT_TRUE((co_await sub->Connect(broker.Options("props-sub"))).ok());
    EXPECT_TRUE((co_await sub->Subscribe(Sub("props/#", QoS::kExactlyOnce))).ok());
    auto pub = Client::Create(ex);
    EXPECT_TRUE((co_await pub->Connect(broker.Options("props-pub"))).ok());
    for (int q = 0; q <= 2; ++q) {
      client::Message m = Msg("props/t", payload, static_cast<QoS>(q));
      m.properties = props;
      EXPECT_TRUE((co_await pub->Publish(std::move(m))).ok());
      auto got = co_await sub->Receive(5s);
      EXPECT_TRUE(got.ok()) << got.status();
      if (!got.ok()) co_return;
      EXPECT_EQ(got->qos, static_cast<QoS>(q));
      ExpectRichProperties(*got);
    }
    // The retained copy keeps them too.
    client::Message retained = Msg("props/kept", payload, QoS::kAtLeastOnce, /*retain=*/true);
    retained.properties = props;
    EXPECT_TRUE((co_await pub->Publish(std::move(retained))).ok());
    auto late = Client::Create(ex);
    EXPECT_TRUE((co_await late->Connect(broker.Options("props-late"))).ok());
    EXPECT_TRUE((co_await late->Subscribe(Sub("props/kept", QoS::kAtLeastOnce))).ok());
    auto got = co_await late->Receive(5s);
    EXPECT_TRUE(got.ok()) << got.status();
    if (got.ok()) {
      EXPECT_TRUE(got->retain);
      ExpectRichProperties(*got);
    }
  });
}

TEST(PropertiesTest, InvalidUtf8WithPayloadFormatIndicatorIsRefused) {
  BrokerFixture broker;
  protocol::Properties utf8;
  utf8.payload_format_indicator = 1;
  const protocol::OwnedProperties props(utf8);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto sub = Client::Create(ex);
    EXPECT_TRUE((co_await sub->Connect(broker.Options("pfi-sub"))).ok());
    EXPECT_TRUE((co_await sub->Subscribe(Sub("pfi/#", QoS::kExactlyOnce))).ok());
    auto pub = Client::Create(ex);
    EXPECT_TRUE((co_await pub->Connect(broker.Options("pfi-pub"))).ok());
    const uint64_t before =
        broker.broker().Snapshot().dropped[static_cast<size_t>(core::DropReason::kInvalidPayload)];
    for (int q = 0; q <= 2; ++q) {
      client::Message bad =
          Msg("pfi/t", std::string("\xff\xfe not utf-8", 13), static_cast<QoS>(q));
      bad.properties = props;
      auto r = co_await pub->Publish(std::move(bad));
      EXPECT_TRUE(r.ok()) << r.status();
      // QoS 1: PUBACK 0x99; QoS 2: PUBREC 0x99 (§3.3.2.3.2, §4.13).
      if (r.ok() && q > 0) EXPECT_EQ(r->reason_code, ReasonCode::kPayloadFormatInvalid) << q;
    }
    // Nothing was delivered: the first message the subscriber sees is this one.
    client::Message good = Msg("pfi/t", "valid \xe2\x9c\x93", QoS::kAtLeastOnce);
    good.properties = props;
    auto ok = co_await pub->Publish(std::move(good));
    EXPECT_TRUE(ok.ok() && ok->reason_code == ReasonCode::kSuccess);
    auto got = co_await sub->Receive(5s);
    EXPECT_TRUE(got.ok()) << got.status();
    if (got.ok()) EXPECT_EQ(got->payload, "valid \xe2\x9c\x93");
    EXPECT_EQ(
        broker.broker().Snapshot().dropped[static_cast<size_t>(core::DropReason::kInvalidPayload)],
        before + 3);
  });
}

TEST(PropertiesTest, ReasonStringOnlyWhenProblemInformationIsRequested) {
  BrokerFixture broker(testing::TestConfig(), false, DenyingOptions());
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    // Default (Request Problem Information absent = 1): 0x87 with a Reason String.
    auto verbose = Client::Create(ex);
    EXPECT_TRUE((co_await verbose->Connect(broker.Options("rpi-default"))).ok());
    for (int q = 1; q <= 2; ++q) {
      auto r = co_await verbose->Publish(Msg("deny/x", "no", static_cast<QoS>(q)));
      EXPECT_TRUE(r.ok()) << r.status();
      if (!r.ok()) co_return;
      EXPECT_EQ(r->reason_code, ReasonCode::kNotAuthorized);
      EXPECT_TRUE(r->properties.view().reason_string.has_value()) << q;
    }
    // Request Problem Information 0: the same refusal, no Reason String [MQTT-3.1.2-29].
    auto quiet = Client::Create(ex);
    ConnectOptions o = broker.Options("rpi-0");
    o.properties = ConnectProperties(0);
    EXPECT_TRUE((co_await quiet->Connect(o)).ok());
    for (int q = 1; q <= 2; ++q) {
      auto r = co_await quiet->Publish(Msg("deny/x", "no", static_cast<QoS>(q)));
      EXPECT_TRUE(r.ok()) << r.status();
      if (!r.ok()) co_return;
      EXPECT_EQ(r->reason_code, ReasonCode::kNotAuthorized);
      EXPECT_FALSE(r->properties.view().reason_string.has_value()) << q;
      EXPECT_TRUE(r->properties.view().user_properties.empty());
    }
  });
}

TEST(PropertiesTest, DeniedPublishIsNotDelivered) {
  BrokerFixture broker(testing::TestConfig(), false, DenyingOptions());
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto sub = Client::Create(ex);
    EXPECT_TRUE((co_await sub->Connect(broker.Options("deny-sub"))).ok());
    EXPECT_TRUE((co_await sub->Subscribe(Sub("#", QoS::kAtLeastOnce))).ok());

    // MQTT 5: refused with 0x87.
    auto pub5 = Client::Create(ex);
    EXPECT_TRUE((co_await pub5->Connect(broker.Options("deny-pub5"))).ok());
    auto r5 = co_await pub5->Publish(Msg("deny/x", "v5", QoS::kAtLeastOnce));
    EXPECT_TRUE(r5.ok() && r5->reason_code == ReasonCode::kNotAuthorized);

    // MQTT 3.1.1 cannot say no: acknowledged normally [MQTT-3.3.5-2], and still not delivered.
    auto pub3 = Client::Create(ex);
    EXPECT_TRUE(
        (co_await pub3->Connect(broker.Options("deny-pub311", ProtocolVersion::kMqtt311))).ok());
    for (int q = 0; q <= 2; ++q) {
      auto r = co_await pub3->Publish(Msg("deny/x", "v311", static_cast<QoS>(q)));
      EXPECT_TRUE(r.ok()) << r.status();
      if (r.ok()) EXPECT_EQ(r->reason_code, ReasonCode::kSuccess);
    }
    EXPECT_TRUE(pub3->connected());
    // The first message the subscriber sees is the allowed one published after them.
    EXPECT_TRUE((co_await pub3->Publish(Msg("allowed/x", "ok", QoS::kAtLeastOnce))).ok());
    auto got = co_await sub->Receive(5s);
    EXPECT_TRUE(got.ok()) << got.status();
    if (got.ok()) {
      EXPECT_EQ(got->topic, "allowed/x");
      EXPECT_EQ(got->payload, "ok");
    }
    EXPECT_GE(
        broker.broker().Snapshot().dropped[static_cast<size_t>(core::DropReason::kNotAuthorized)],
        4u);
  });
}

}  // namespace
}  // namespace simq::server

namespace simq::server {
namespace {

protocol::OwnedProperties RequestResponseInformation(uint8_t value) {
  protocol::Properties p;
  p.request_response_information = value;
  return protocol::OwnedProperties(p);
}

TEST(ResponseInformationTest, SentOnlyToClientsThatAskForIt) {
  config::Config config = testing::TestConfig();
  config.mqtt.response_information = "responses/%c/";
  testing::BrokerFixture broker(config);
  testing::RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto asking = Client::Create(ex);
    ConnectOptions o = broker.Options("asker");
    o.properties = RequestResponseInformation(1);
    auto connack = co_await asking->Connect(o);
    EXPECT_TRUE(connack.ok()) << connack.status();
    if (connack.ok()) {
      EXPECT_EQ(connack->properties.view().response_information, "responses/asker/");
    }
    // Request Response Information 0 (and absent, which means 0): none [MQTT-3.1.2-28].
    auto quiet = Client::Create(ex);
    ConnectOptions q = broker.Options("quiet");
    q.properties = RequestResponseInformation(0);
    auto c2 = co_await quiet->Connect(q);
    EXPECT_TRUE(c2.ok());
    if (c2.ok()) EXPECT_FALSE(c2->properties.view().response_information.has_value());
    auto silent = Client::Create(ex);
    auto c3 = co_await silent->Connect(broker.Options("silent"));
    EXPECT_TRUE(c3.ok());
    if (c3.ok()) EXPECT_FALSE(c3->properties.view().response_information.has_value());
  });
}

TEST(ResponseInformationTest, NotSentWhenNotConfigured) {
  testing::BrokerFixture broker;
  testing::RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto c = Client::Create(ex);
    ConnectOptions o = broker.Options("asker");
    o.properties = RequestResponseInformation(1);
    auto connack = co_await c->Connect(o);
    EXPECT_TRUE(connack.ok());
    if (connack.ok()) EXPECT_FALSE(connack->properties.view().response_information.has_value());
  });
}

}  // namespace
}  // namespace simq::server

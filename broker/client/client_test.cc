// The client against a real Mosquitto broker (Debian), over MQTT 5 and 3.1.1.

#include "broker/client/client.h"

#include <string>

#include <gtest/gtest.h>

#include "boost/asio/detached.hpp"
#include "fmt/format.h"

#include "broker/testing/coro.h"
#include "broker/testing/mosquitto.h"

namespace simq::client {
namespace {

using protocol::ProtocolVersion;
using protocol::QoS;
using protocol::ReasonCode;
using testing::RunCoroutine;
using namespace std::chrono_literals;

// GCC 12 rejects std::initializer_list arrays inside coroutines ("array used as initializer",
// GCC PR 105574-like), so coroutine bodies build their lists through these helpers.
constexpr QoS kAllQoS[] = {QoS::kAtMostOnce, QoS::kAtLeastOnce, QoS::kExactlyOnce};

std::vector<std::string> Filters(std::string filter) {
  return std::vector<std::string>(1, filter);
}
Message Msg(std::string topic, std::string payload, QoS qos = QoS::kAtMostOnce, bool retain = false,
            protocol::Properties properties = {}) {
  Message m;
  m.topic = std::move(topic);
  m.payload = std::move(payload);
  m.qos = qos;
  m.retain = retain;
  m.properties = protocol::OwnedProperties(properties);
  return m;
}

std::vector<Subscription> Sub(std::string filter, QoS qos = QoS::kAtMostOnce) {
  Subscription s;
  s.filter = std::move(filter);
  s.options.max_qos = qos;
  return {s};
}

class ClientTest : public ::testing::TestWithParam<ProtocolVersion> {
 protected:
  void SetUp() override { ASSERT_TRUE(mosquitto_.Start()) << mosquitto_.error(); }

  ConnectOptions Options(std::string client_id) {
    ConnectOptions o;
    o.endpoint.port = mosquitto_.port();
    o.version = GetParam();
    o.client_id = std::move(client_id);
    return o;
  }

  bool v5() const { return GetParam() == ProtocolVersion::kMqtt5; }

  testing::MosquittoServer mosquitto_;
};

TEST_P(ClientTest, RoundTripsEveryQoS) {
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto sub = Client::Create(ex);
    auto pub = Client::Create(ex);
    auto connack = co_await sub->Connect(Options("sub"));
    EXPECT_TRUE(connack.ok()) << connack.status();
    EXPECT_EQ(connack->reason_code, ReasonCode::kSuccess);
    EXPECT_FALSE(connack->session_present);
    EXPECT_TRUE((co_await pub->Connect(Options("pub"))).ok());

    auto suback = co_await sub->Subscribe(Sub("t/#", QoS::kExactlyOnce));
    EXPECT_TRUE(suback.ok()) << suback.status();
    EXPECT_EQ(suback->reason_codes, std::vector<ReasonCode>(1, ReasonCode::kGrantedQoS2));

    for (QoS qos : kAllQoS) {
      std::string payload = fmt::format("payload at QoS {}", static_cast<int>(qos));
      auto result = co_await pub->Publish(Msg("t/a", payload, qos));
      EXPECT_TRUE(result.ok()) << result.status();
      if (qos != QoS::kAtMostOnce) {
        EXPECT_NE(result->packet_id, 0);
      }
      auto m = co_await sub->Receive(5s);
      EXPECT_TRUE(m.ok()) << m.status();
      if (!m.ok()) co_return;
      EXPECT_EQ(m->topic, "t/a");
      EXPECT_EQ(m->payload, payload);
      EXPECT_EQ(m->qos, qos);
      EXPECT_FALSE(m->retain);
    }
    // Exactly once: nothing further arrives.
    auto extra = co_await sub->Receive(200ms);
    EXPECT_EQ(extra.status().code(), absl::StatusCode::kDeadlineExceeded);

    EXPECT_TRUE((co_await sub->Unsubscribe(Filters("t/#"))).ok());
    EXPECT_TRUE((co_await pub->Publish(Msg("t/a", "x"))).ok());
    EXPECT_EQ((co_await sub->Receive(200ms)).status().code(), absl::StatusCode::kDeadlineExceeded);
    EXPECT_TRUE((co_await sub->Disconnect()).ok());
    EXPECT_TRUE((co_await pub->Disconnect()).ok());
  });
}

TEST_P(ClientTest, RetainedMessageReachesLaterSubscriber) {
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto pub = Client::Create(ex);
    EXPECT_TRUE((co_await pub->Connect(Options("pub"))).ok());
    EXPECT_TRUE((co_await pub->Publish(Msg("r/1", "kept", QoS::kAtLeastOnce, true))).ok());
    auto sub = Client::Create(ex);
    EXPECT_TRUE((co_await sub->Connect(Options("sub"))).ok());
    EXPECT_TRUE((co_await sub->Subscribe(Sub("r/+", QoS::kAtLeastOnce))).ok());
    auto m = co_await sub->Receive(5s);
    EXPECT_TRUE(m.ok()) << m.status();
    if (!m.ok()) co_return;
    EXPECT_EQ(m->payload, "kept");
    EXPECT_TRUE(m->retain);
    // Clear it with an empty retained payload.
    EXPECT_TRUE((co_await pub->Publish(Msg("r/1", "", QoS::kAtLeastOnce, true))).ok());
  });
}

TEST_P(ClientTest, WillIsPublishedOnAbnormalDisconnect) {
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto watcher = Client::Create(ex);
    EXPECT_TRUE((co_await watcher->Connect(Options("watcher"))).ok());
    EXPECT_TRUE((co_await watcher->Subscribe(Sub("wills/#", QoS::kAtLeastOnce))).ok());

    auto dying = Client::Create(ex);
    ConnectOptions options = Options("dying");
    options.will = Msg("wills/dying", "gone", QoS::kAtLeastOnce);
    EXPECT_TRUE((co_await dying->Connect(options)).ok());
    dying->Abort();

    auto m = co_await watcher->Receive(10s);
    EXPECT_TRUE(m.ok()) << m.status();
    if (!m.ok()) co_return;
    EXPECT_EQ(m->topic, "wills/dying");
    EXPECT_EQ(m->payload, "gone");
  });
}

TEST_P(ClientTest, NoWillOnNormalDisconnect) {
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto watcher = Client::Create(ex);
    EXPECT_TRUE((co_await watcher->Connect(Options("watcher"))).ok());
    EXPECT_TRUE((co_await watcher->Subscribe(Sub("wills/#"))).ok());
    auto leaving = Client::Create(ex);
    ConnectOptions options = Options("leaving");
    options.will = Msg("wills/leaving", "gone");
    EXPECT_TRUE((co_await leaving->Connect(options)).ok());
    EXPECT_TRUE((co_await leaving->Disconnect()).ok());
    EXPECT_EQ((co_await watcher->Receive(500ms)).status().code(),
              absl::StatusCode::kDeadlineExceeded);
  });
}

TEST_P(ClientTest, ResumesSessionWithCleanStartFalse) {
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto sub = Client::Create(ex);
    ConnectOptions options = Options("durable");
    options.clean_start = false;
    protocol::Properties props;
    props.session_expiry_interval = 300;
    if (v5()) options.properties = protocol::OwnedProperties(props);
    // Start from a clean slate: a clean connection first.
    ConnectOptions clean = Options("durable");
    EXPECT_TRUE((co_await sub->Connect(clean)).ok());
    EXPECT_TRUE((co_await sub->Disconnect()).ok());

    auto first = co_await sub->Connect(options);
    EXPECT_TRUE(first.ok()) << first.status();
    EXPECT_FALSE(first->session_present);
    EXPECT_TRUE((co_await sub->Subscribe(Sub("q/#", QoS::kExactlyOnce))).ok());
    EXPECT_TRUE((co_await sub->Disconnect()).ok());

    auto pub = Client::Create(ex);
    EXPECT_TRUE((co_await pub->Connect(Options("pub"))).ok());
    EXPECT_TRUE((co_await pub->Publish(Msg("q/1", "one", QoS::kAtLeastOnce))).ok());
    EXPECT_TRUE((co_await pub->Publish(Msg("q/2", "two", QoS::kExactlyOnce))).ok());

    auto second = co_await sub->Connect(options);
    EXPECT_TRUE(second.ok()) << second.status();
    EXPECT_TRUE(second->session_present);
    auto m1 = co_await sub->Receive(5s);
    auto m2 = co_await sub->Receive(5s);
    EXPECT_TRUE(m1.ok() && m2.ok());
    if (!m1.ok() || !m2.ok()) co_return;
    EXPECT_EQ(m1->payload, "one");
    EXPECT_EQ(m2->payload, "two");
    EXPECT_EQ(m2->qos, QoS::kExactlyOnce);
  });
}

TEST_P(ClientTest, InFlightWindowHonoursServerReceiveMaximum) {
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto sub = Client::Create(ex);
    auto pub = Client::Create(ex);
    EXPECT_TRUE((co_await sub->Connect(Options("sub"))).ok());
    EXPECT_TRUE((co_await sub->Subscribe(Sub("w/#", QoS::kAtLeastOnce))).ok());
    EXPECT_TRUE((co_await pub->Connect(Options("pub"))).ok());
    // Mosquitto advertises Receive Maximum 20 (its max_inflight_messages) to MQTT 5 clients;
    // a 3.1.1 client has no limit from the server (65,535).
    const size_t window = pub->server_receive_maximum();
    if (v5()) {
      EXPECT_EQ(window, 20u);
    }

    // 50 concurrent QoS 1 publishes: the client keeps at most Receive Maximum in flight.
    constexpr int kCount = 50;
    int completed = 0;
    size_t max_inflight = 0;
    for (int i = 0; i < kCount; ++i) {
      asio::co_spawn(
          ex,
          [&, i]() -> asio::awaitable<void> {
            auto r = co_await pub->Publish(Msg("w/x", std::to_string(i), QoS::kAtLeastOnce));
            EXPECT_TRUE(r.ok()) << r.status();
            ++completed;
          },
          asio::detached);
      max_inflight = std::max(max_inflight, pub->inflight());
    }
    for (int i = 0; i < kCount; ++i) {
      auto m = co_await sub->Receive(5s);
      EXPECT_TRUE(m.ok()) << m.status();
      if (!m.ok()) co_return;
      EXPECT_EQ(m->payload, std::to_string(i));  // per-topic order kept
    }
    while (completed < kCount) co_await pub->Receive(10ms);
    // The window filled up and never overflowed.
    EXPECT_EQ(max_inflight, std::min<size_t>(window, kCount));
  });
}

TEST_P(ClientTest, TopicAliasesOutbound) {
  if (!v5()) GTEST_SKIP() << "topic aliases are MQTT 5";
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto sub = Client::Create(ex);
    EXPECT_TRUE((co_await sub->Connect(Options("sub"))).ok());
    EXPECT_TRUE((co_await sub->Subscribe(Sub("alias/#"))).ok());
    auto pub = Client::Create(ex);
    ConnectOptions options = Options("pub");
    options.use_topic_aliases = true;
    EXPECT_TRUE((co_await pub->Connect(options)).ok());
    EXPECT_GT(pub->connack_properties().view().topic_alias_maximum.value_or(0), 0);
    for (int i = 0; i < 3; ++i) {
      EXPECT_TRUE((co_await pub->Publish(
                       Msg("alias/long/topic/name", std::to_string(i), QoS::kAtLeastOnce)))
                      .ok());
    }
    for (int i = 0; i < 3; ++i) {
      auto m = co_await sub->Receive(5s);
      EXPECT_TRUE(m.ok()) << m.status();
      if (!m.ok()) co_return;
      EXPECT_EQ(m->topic, "alias/long/topic/name");  // the broker resolved our alias
      EXPECT_EQ(m->payload, std::to_string(i));
    }
  });
}

TEST_P(ClientTest, UserPropertiesAndMessagePropertiesPassThrough) {
  if (!v5()) GTEST_SKIP() << "properties are MQTT 5";
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto sub = Client::Create(ex);
    EXPECT_TRUE((co_await sub->Connect(Options("sub"))).ok());
    protocol::Properties subprops;
    uint32_t id = 7;
    subprops.subscription_ids = protocol::SubscriptionIds(std::span(&id, 1));
    EXPECT_TRUE((co_await sub->Subscribe(Sub("p/#"), protocol::OwnedProperties(subprops))).ok());
    auto pub = Client::Create(ex);
    EXPECT_TRUE((co_await pub->Connect(Options("pub"))).ok());
    std::vector<protocol::StringPair> pairs(2);
    pairs[0] = protocol::StringPair{"k", "v1"};
    pairs[1] = protocol::StringPair{"k", "v2"};
    protocol::Properties props;
    props.user_properties = protocol::UserProperties(pairs);
    props.content_type = "text/plain";
    props.response_topic = "p/reply";
    props.correlation_data = "\x01\x02";
    EXPECT_TRUE((co_await pub->Publish(Msg("p/1", "hi", QoS::kAtLeastOnce, false, props))).ok());
    auto m = co_await sub->Receive(5s);
    EXPECT_TRUE(m.ok()) << m.status();
    if (!m.ok()) co_return;
    const protocol::Properties& got = m->properties.view();
    EXPECT_EQ(got.content_type, "text/plain");
    EXPECT_EQ(got.response_topic, "p/reply");
    EXPECT_EQ(got.correlation_data, "\x01\x02");
    EXPECT_EQ(got.user_properties.ToVector(), pairs);
    EXPECT_EQ(got.subscription_ids.ToVector(), std::vector<uint32_t>(1, 7));
  });
}

INSTANTIATE_TEST_SUITE_P(Versions, ClientTest,
                         ::testing::Values(ProtocolVersion::kMqtt5, ProtocolVersion::kMqtt311),
                         [](const auto& info) {
                           return info.param == ProtocolVersion::kMqtt5 ? std::string("Mqtt5")
                                                                        : std::string("Mqtt311");
                         });

}  // namespace
}  // namespace simq::client

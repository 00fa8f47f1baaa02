// Authentication behind the Authenticator seam: enhanced authentication with AUTH packets
// (MQTT 5 §4.12), re-authentication (§4.12.1), and user name / password refusals that leave no
// session behind.

#include <gtest/gtest.h>

#include "broker/auth/auth_interface.h"
#include "broker/core/broker.h"
#include "broker/server/test_util.h"
#include "broker/testing/coro.h"

namespace simq::server {
namespace {

using testing::BrokerFixture;
using testing::RunCoroutine;

constexpr std::string_view kMethod = "TEST-2STEP";

// A toy two-step method: client "hello" → server "challenge"; client "response" → success
// with server data "welcome". Anything else is refused with 0x87.
class TwoStepExchange final : public auth::AuthExchange {
 public:
  auth::AuthStep Next(std::string_view client_data) override {
    auth::AuthStep step;
    step.code = ReasonCode::kNotAuthorized;
    switch (round_++) {
      case 0:
        if (client_data == "hello") {
          step.code = ReasonCode::kContinueAuthentication;
          step.data = "challenge";
        }
        break;
      case 1:
        if (client_data == "response") {
          step.code = ReasonCode::kSuccess;
          step.data = "welcome";
        }
        break;
      default: break;
    }
    return step;
  }
  std::optional<std::string> username() const override { return "two-step-user"; }

 private:
  int round_ = 0;
};

// Enhanced authentication with TEST-2STEP; passwords: user "alice" needs "secret", clients
// without a user name are let in. Stateless, hence thread-safe.
class TestAuthenticator final : public auth::Authenticator {
 public:
  ReasonCode CheckPassword(const auth::ClientInfo& client,
                           std::optional<std::string_view> password) override {
    if (!client.username) return ReasonCode::kSuccess;
    if (*client.username == "alice" && password == "secret") return ReasonCode::kSuccess;
    return ReasonCode::kBadUserNameOrPassword;
  }
  std::unique_ptr<auth::AuthExchange> StartExchange(std::string_view method,
                                                    const auth::ClientInfo&) override {
    if (method != kMethod) return nullptr;
    return std::make_unique<TwoStepExchange>();
  }
};

core::BrokerOptions TestAuth() {
  core::BrokerOptions options;
  options.authenticator = std::make_shared<TestAuthenticator>();
  return options;
}

protocol::AuthPacket Auth(ReasonCode code, std::string_view method, std::string_view data) {
  protocol::AuthPacket a;
  a.reason_code = code;
  a.properties.authentication_method = method;
  a.properties.authentication_data = data;
  return a;
}

// CONNECT with enhanced authentication, a persistent session requested.
protocol::ConnectPacket AuthConnect(std::string_view id, std::string_view method,
                                    std::string_view data) {
  protocol::ConnectPacket c = Connect(id, ProtocolVersion::kMqtt5, /*clean_start=*/false);
  c.properties.session_expiry_interval = 600;
  c.properties.authentication_method = method;
  c.properties.authentication_data = data;
  return c;
}

protocol::OwnedProperties EnhancedAuthProperties(std::string_view data, uint32_t expiry = 0) {
  protocol::Properties p;
  p.authentication_method = kMethod;
  p.authentication_data = data;
  if (expiry != 0) p.session_expiry_interval = expiry;
  return protocol::OwnedProperties(p);
}

// Receives one packet and expects an AUTH with `code`, the method, and `data` if given.
asio::awaitable<void> ExpectAuth(RawConnection& c, ReasonCode code,
                                 std::optional<std::string> data) {
  auto p = co_await c.Receive(5s);
  EXPECT_TRUE(p.ok()) << p.status();
  if (!p.ok()) co_return;
  const auto* a = p->get<protocol::AuthPacket>();
  EXPECT_NE(a, nullptr) << "expected AUTH, got " << protocol::PacketTypeName(p->type());
  if (a == nullptr) co_return;
  EXPECT_EQ(a->reason_code, code);
  EXPECT_EQ(a->properties.authentication_method, kMethod);  // [MQTT-4.12.0-5]
  if (data) EXPECT_EQ(a->properties.authentication_data, *data);
}

asio::awaitable<std::optional<protocol::ConnackPacket>> ReceiveConnack(RawConnection& c,
                                                                       OwnedPacket* keep) {
  auto p = co_await c.Receive(5s);
  EXPECT_TRUE(p.ok()) << p.status();
  if (!p.ok()) co_return std::nullopt;
  const auto* connack = p->get<protocol::ConnackPacket>();
  EXPECT_NE(connack, nullptr) << "expected CONNACK, got " << protocol::PacketTypeName(p->type());
  if (connack == nullptr) co_return std::nullopt;
  protocol::ConnackPacket copy = *connack;
  *keep = std::move(*p);
  co_return copy;
}

asio::awaitable<void> ExpectDisconnect(RawConnection& c, ReasonCode code) {
  auto p = co_await c.Receive(5s);
  EXPECT_TRUE(p.ok()) << p.status();
  if (p.ok()) {
    const auto* d = p->get<protocol::DisconnectPacket>();
    EXPECT_NE(d, nullptr) << "expected DISCONNECT, got " << protocol::PacketTypeName(p->type());
    if (d) EXPECT_EQ(d->reason_code, code) << protocol::ReasonCodeName(d->reason_code);
  }
  EXPECT_TRUE(co_await c.WaitClosed(5s));
}

// Connects with the correct two-step exchange and a persistent session; returns Session Present.
asio::awaitable<std::optional<bool>> GoodEnhancedConnect(asio::any_io_executor ex,
                                                         BrokerFixture& broker, std::string id) {
  auto c = Client::Create(ex);
  ConnectOptions o = broker.Options(id);
  o.clean_start = false;
  o.properties = EnhancedAuthProperties("hello", 600);
  o.on_auth = [](const protocol::AuthPacket&) -> absl::StatusOr<std::string> { return "response"; };
  auto connack = co_await c->Connect(o);
  EXPECT_TRUE(connack.ok()) << connack.status();
  if (!connack.ok() || connack->reason_code != ReasonCode::kSuccess) co_return std::nullopt;
  EXPECT_TRUE((co_await c->Disconnect()).ok());
  co_return connack->session_present;
}

TEST(AuthFlowTest, TwoStepEnhancedAuthenticationOnTheWire) {
  BrokerFixture broker(testing::TestConfig(), false, TestAuth());
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto c = co_await RawConnect(ex, broker.port());
    c->Send(AuthConnect("two-step", kMethod, "hello"));
    // [MQTT-4.12.0-2]: AUTH 0x18 with the method and the server's data.
    co_await ExpectAuth(*c, ReasonCode::kContinueAuthentication, "challenge");
    c->Send(Auth(ReasonCode::kContinueAuthentication, kMethod, "response"));
    OwnedPacket keep;
    auto connack = co_await ReceiveConnack(*c, &keep);
    EXPECT_TRUE(connack.has_value());
    if (!connack) co_return;
    EXPECT_EQ(connack->reason_code, ReasonCode::kSuccess);
    EXPECT_EQ(connack->properties.authentication_method, kMethod);  // [MQTT-4.12.0-5]
    EXPECT_EQ(connack->properties.authentication_data, "welcome");
    // The connection works.
    c->Send(protocol::PingreqPacket{});
    auto pong = co_await c->Receive(5s);
    EXPECT_TRUE(pong.ok() && pong->type() == protocol::PacketType::kPingresp);
  });
}

TEST(AuthFlowTest, TwoStepEnhancedAuthenticationWithTheClientLibrary) {
  BrokerFixture broker(testing::TestConfig(), false, TestAuth());
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    std::vector<std::string> challenges;
    auto c = Client::Create(ex);
    ConnectOptions o = broker.Options("two-step-lib");
    o.properties = EnhancedAuthProperties("hello");
    o.on_auth = [&challenges](const protocol::AuthPacket& a) -> absl::StatusOr<std::string> {
      challenges.emplace_back(a.properties.authentication_data.value_or(""));
      return "response";
    };
    auto connack = co_await c->Connect(o);
    EXPECT_TRUE(connack.ok()) << connack.status();
    if (!connack.ok()) co_return;
    EXPECT_EQ(connack->reason_code, ReasonCode::kSuccess);
    EXPECT_EQ(connack->properties.view().authentication_data, "welcome");
    EXPECT_EQ(challenges, std::vector<std::string>(1, "challenge"));
    EXPECT_TRUE((co_await c->Subscribe(Sub("auth/t"))).ok());
    EXPECT_TRUE((co_await c->Publish(Msg("auth/t", "in"))).ok());
    auto m = co_await c->Receive(5s);
    EXPECT_TRUE(m.ok()) << m.status();
  });
}

TEST(AuthFlowTest, WrongAnswerIsNotAuthorizedAndCreatesNoSession) {
  BrokerFixture broker(testing::TestConfig(), false, TestAuth());
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto c = co_await RawConnect(ex, broker.port());
    c->Send(AuthConnect("wrong-answer", kMethod, "hello"));
    co_await ExpectAuth(*c, ReasonCode::kContinueAuthentication, "challenge");
    c->Send(Auth(ReasonCode::kContinueAuthentication, kMethod, "guess"));
    OwnedPacket keep;
    auto connack = co_await ReceiveConnack(*c, &keep);
    EXPECT_TRUE(connack.has_value());
    if (connack) {
      EXPECT_EQ(connack->reason_code, ReasonCode::kNotAuthorized);
      EXPECT_FALSE(connack->session_present);  // [MQTT-3.2.2-6]
    }
    EXPECT_TRUE(co_await c->WaitClosed(5s));

    // Wrong first data: refused at once.
    auto d = co_await RawConnect(ex, broker.port());
    d->Send(AuthConnect("wrong-answer", kMethod, "hi"));
    auto refused = co_await ReceiveConnack(*d, &keep);
    EXPECT_TRUE(refused.has_value());
    if (refused) EXPECT_EQ(refused->reason_code, ReasonCode::kNotAuthorized);
    EXPECT_TRUE(co_await d->WaitClosed(5s));

    // No session was created by either attempt; a good one creates it.
    EXPECT_EQ(co_await GoodEnhancedConnect(ex, broker, "wrong-answer"), false);
    EXPECT_EQ(co_await GoodEnhancedConnect(ex, broker, "wrong-answer"), true);
  });
}

TEST(AuthFlowTest, UnknownMethodIsBadAuthenticationMethod) {
  BrokerFixture broker(testing::TestConfig(), false, TestAuth());
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto c = co_await RawConnect(ex, broker.port());
    c->Send(AuthConnect("unknown-method", "NO-SUCH-METHOD", "hello"));
    OwnedPacket keep;
    auto connack = co_await ReceiveConnack(*c, &keep);
    EXPECT_TRUE(connack.has_value());
    if (connack) EXPECT_EQ(connack->reason_code, ReasonCode::kBadAuthenticationMethod);  // 0x8C
    EXPECT_TRUE(co_await c->WaitClosed(5s));
    EXPECT_EQ(co_await GoodEnhancedConnect(ex, broker, "unknown-method"), false);
  });
}

TEST(AuthFlowTest, ContinuingWithAnotherMethodIsAProtocolError) {
  BrokerFixture broker(testing::TestConfig(), false, TestAuth());
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto c = co_await RawConnect(ex, broker.port());
    c->Send(AuthConnect("other-method", kMethod, "hello"));
    co_await ExpectAuth(*c, ReasonCode::kContinueAuthentication, "challenge");
    // §4.12: every AUTH of the exchange carries the CONNECT's method.
    c->Send(Auth(ReasonCode::kContinueAuthentication, "OTHER-METHOD", "response"));
    OwnedPacket keep;
    auto connack = co_await ReceiveConnack(*c, &keep);
    EXPECT_TRUE(connack.has_value());
    if (connack) EXPECT_EQ(connack->reason_code, ReasonCode::kProtocolError);
    EXPECT_TRUE(co_await c->WaitClosed(5s));
  });
}

TEST(AuthFlowTest, AuthenticationDataWithoutMethodIsAProtocolError) {
  BrokerFixture broker(testing::TestConfig(), false, TestAuth());
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto c = co_await RawConnect(ex, broker.port());
    protocol::ConnectPacket connect = Connect("data-no-method");
    connect.properties.authentication_data = "hello";
    OwnedPacket keep;
    auto connack = co_await Handshake(*c, connect, &keep);
    EXPECT_TRUE(connack.has_value());
    // §3.1.2.11.10: Authentication Data without Authentication Method.
    if (connack) EXPECT_EQ(connack->reason_code, ReasonCode::kProtocolError);
    EXPECT_TRUE(co_await c->WaitClosed(5s));
  });
}

TEST(AuthFlowTest, UnfinishedExchangeEndsAtTheConnectTimeout) {
  BrokerFixture broker(testing::TestConfig(), /*fake_clock=*/true, TestAuth());
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto c = co_await RawConnect(ex, broker.port());
    c->Send(AuthConnect("silent-after-challenge", kMethod, "hello"));
    co_await ExpectAuth(*c, ReasonCode::kContinueAuthentication, "challenge");
    // The client never answers the challenge.
    broker.clock()->Advance(std::chrono::seconds(9));
    broker.Tick();
    EXPECT_FALSE(co_await c->WaitClosed(100ms));
    broker.clock()->Advance(std::chrono::seconds(2));  // past mqtt.connect_timeout_ms (10 s)
    broker.Tick();
    EXPECT_TRUE(co_await c->WaitClosed(5s));
    EXPECT_EQ(co_await GoodEnhancedConnect(ex, broker, "silent-after-challenge"), false);
  });
}

TEST(AuthFlowTest, ReauthenticationOnTheWire) {
  BrokerFixture broker(testing::TestConfig(), false, TestAuth());
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto c = co_await RawConnect(ex, broker.port());
    c->Send(AuthConnect("reauth-raw", kMethod, "hello"));
    co_await ExpectAuth(*c, ReasonCode::kContinueAuthentication, "challenge");
    c->Send(Auth(ReasonCode::kContinueAuthentication, kMethod, "response"));
    OwnedPacket keep;
    auto connack = co_await ReceiveConnack(*c, &keep);
    EXPECT_TRUE(connack.has_value() && connack->reason_code == ReasonCode::kSuccess);

    // §4.12.1: AUTH 0x19 → AUTH 0x18 → AUTH 0x18 → AUTH 0x00 Success.
    c->Send(Auth(ReasonCode::kReAuthenticate, kMethod, "hello"));
    co_await ExpectAuth(*c, ReasonCode::kContinueAuthentication, "challenge");
    c->Send(Auth(ReasonCode::kContinueAuthentication, kMethod, "response"));
    co_await ExpectAuth(*c, ReasonCode::kSuccess, "welcome");
    c->Send(protocol::PingreqPacket{});
    auto pong = co_await c->Receive(5s);
    EXPECT_TRUE(pong.ok() && pong->type() == protocol::PacketType::kPingresp);

    // A failed re-authentication ends the connection [MQTT-4.12.1-2].
    c->Send(Auth(ReasonCode::kReAuthenticate, kMethod, "hello"));
    co_await ExpectAuth(*c, ReasonCode::kContinueAuthentication, "challenge");
    c->Send(Auth(ReasonCode::kContinueAuthentication, kMethod, "guess"));
    co_await ExpectDisconnect(*c, ReasonCode::kNotAuthorized);
  });
}

TEST(AuthFlowTest, ReauthenticationWithTheClientLibrary) {
  BrokerFixture broker(testing::TestConfig(), false, TestAuth());
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    std::string answer = "response";
    auto c = Client::Create(ex);
    ConnectOptions o = broker.Options("reauth-lib");
    o.properties = EnhancedAuthProperties("hello");
    o.on_auth = [&answer](const protocol::AuthPacket&) -> absl::StatusOr<std::string> {
      return answer;
    };
    auto connack = co_await c->Connect(o);
    EXPECT_TRUE(connack.ok() && connack->reason_code == ReasonCode::kSuccess);

    auto ok = co_await c->Reauthenticate("hello");
    EXPECT_TRUE(ok.ok()) << ok.status();
    if (ok.ok()) EXPECT_EQ(*ok, ReasonCode::kSuccess);
    EXPECT_TRUE(c->connected());
    EXPECT_TRUE((co_await c->Subscribe(Sub("reauth/t"))).ok());

    answer = "guess";
    auto failed = co_await c->Reauthenticate("hello");
    EXPECT_FALSE(failed.ok() && *failed == ReasonCode::kSuccess);
    EXPECT_TRUE(co_await c->WaitClosed(5s));
    EXPECT_TRUE(c->server_disconnect().has_value());
    if (c->server_disconnect()) {
      EXPECT_EQ(c->server_disconnect()->reason_code, ReasonCode::kNotAuthorized);
    }
  });
}

TEST(AuthFlowTest, ReauthenticationMustUseTheSameMethod) {
  BrokerFixture broker(testing::TestConfig(), false, TestAuth());
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto c = co_await RawConnect(ex, broker.port());
    c->Send(AuthConnect("reauth-method", kMethod, "hello"));
    co_await ExpectAuth(*c, ReasonCode::kContinueAuthentication, "challenge");
    c->Send(Auth(ReasonCode::kContinueAuthentication, kMethod, "response"));
    OwnedPacket keep;
    auto connack = co_await ReceiveConnack(*c, &keep);
    EXPECT_TRUE(connack.has_value() && connack->reason_code == ReasonCode::kSuccess);
    c->Send(Auth(ReasonCode::kReAuthenticate, "OTHER-METHOD", "hello"));
    co_await ExpectDisconnect(*c, ReasonCode::kProtocolError);  // [MQTT-4.12.1-1]
  });
}

TEST(AuthFlowTest, AuthWithoutEnhancedAuthenticationIsAProtocolError) {
  BrokerFixture broker(testing::TestConfig(), false, TestAuth());
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto c = co_await RawConnect(ex, broker.port());
    OwnedPacket keep;
    auto connack = co_await Handshake(*c, Connect("plain-auth"), &keep);
    EXPECT_TRUE(connack.has_value() && connack->reason_code == ReasonCode::kSuccess);
    c->Send(Auth(ReasonCode::kReAuthenticate, kMethod, "hello"));
    co_await ExpectDisconnect(*c, ReasonCode::kProtocolError);  // §4.12.1
  });
}

TEST(AuthFlowTest, WrongPasswordIsRefusedAndCreatesNoSession) {
  BrokerFixture broker(testing::TestConfig(), false, TestAuth());
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto c = Client::Create(ex);
    ConnectOptions o = broker.Options("alice-5");
    o.clean_start = false;
    o.properties = ExpiryProps(600);
    o.username = "alice";
    o.password = "wrong";
    auto refused = co_await c->Connect(o);
    EXPECT_TRUE(refused.ok()) << refused.status();
    if (refused.ok()) {
      EXPECT_EQ(refused->reason_code, ReasonCode::kBadUserNameOrPassword);  // 0x86
      EXPECT_FALSE(refused->session_present);
    }
    o.password = "secret";
    auto accepted = co_await c->Connect(o);
    EXPECT_TRUE(accepted.ok()) << accepted.status();
    if (accepted.ok()) {
      EXPECT_EQ(accepted->reason_code, ReasonCode::kSuccess);
      EXPECT_FALSE(accepted->session_present);  // the refused CONNECT left nothing behind
    }
    EXPECT_TRUE((co_await c->Disconnect()).ok());
    // Control: a session that does exist is found.
    auto again = co_await c->Connect(o);
    EXPECT_TRUE(again.ok() && again->session_present);
  });
}

TEST(AuthFlowTest, WrongPasswordMqtt311ReturnCode4AndNoSession) {
  BrokerFixture broker(testing::TestConfig(), false, TestAuth());
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    protocol::ConnectPacket connect = Connect("alice-311", ProtocolVersion::kMqtt311, false);
    connect.username = "alice";
    connect.password = "wrong";
    auto c = co_await RawConnect(ex, broker.port(), ProtocolVersion::kMqtt311);
    OwnedPacket keep;
    EXPECT_TRUE((co_await Handshake(*c, connect, &keep)).has_value());
    EXPECT_EQ(keep.bytes(), std::string("\x20\x02\x00\x04", 4));  // Bad user name or password
    EXPECT_TRUE(co_await c->WaitClosed(5s));

    connect.password = "secret";
    auto ok = co_await RawConnect(ex, broker.port(), ProtocolVersion::kMqtt311);
    EXPECT_TRUE((co_await Handshake(*ok, connect, &keep)).has_value());
    EXPECT_EQ(keep.bytes(), std::string("\x20\x02\x00\x00", 4));  // Session Present 0
    ok->Send(protocol::DisconnectPacket{});
    EXPECT_TRUE(co_await ok->WaitClosed(5s));

    auto again = co_await RawConnect(ex, broker.port(), ProtocolVersion::kMqtt311);
    EXPECT_TRUE((co_await Handshake(*again, connect, &keep)).has_value());
    EXPECT_EQ(keep.bytes(), std::string("\x20\x02\x01\x00", 4));  // control: Session Present 1
  });
}

}  // namespace
}  // namespace simq::server

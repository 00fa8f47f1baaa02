// Authentication, authorization and limits end to end: the password file (argon2id), MQTT 5
// SCRAM-SHA-256 with re-authentication, the ACL file, failed-authentication throttling,
// connection limits, the PROXY protocol, and the CONNECT path that checks slow passwords off the
// event loop.

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "absl/synchronization/mutex.h"
#include "fmt/format.h"
#include "gmock/gmock.h"

#include "broker/auth/password_file.h"
#include "broker/auth/password_hash.h"
#include "broker/auth/scram.h"
#include "broker/core/broker.h"
#include "broker/server/test_util.h"
#include "broker/testing/coro.h"
#include "broker/testing/process.h"

namespace simq::server {
namespace {

using testing::BrokerFixture;
using testing::RunCoroutine;

// A password file with alice/wonderland and bob/builder (argon2id + SCRAM credentials).
std::string Users(const std::string& name) {
  auth::PasswordFile file;
  for (auto [user, password] : {std::pair{"alice", "wonderland"}, std::pair{"bob", "builder"}}) {
    auth::PasswordEntry entry;
    entry.password_hash = *auth::HashPassword(password, auth::HashScheme::kArgon2id);
    entry.scram = auth::MakeScramCredentials(password, "salt-" + std::string(user), 4096);
    file.Set(user, entry);
  }
  const std::string path = fmt::format("{}/{}", testing::TestTempDir(), name);
  EXPECT_TRUE(file.Save(path).ok());
  return path;
}

config::Config WithUsers(const std::string& name) {
  config::Config c = testing::TestConfig();
  c.listeners[0].allow_anonymous = false;
  c.auth.password_file = Users(name);
  return c;
}

ConnectOptions As(BrokerFixture& b, std::string id, std::optional<std::string> user,
                  std::optional<std::string> password,
                  ProtocolVersion version = ProtocolVersion::kMqtt5) {
  ConnectOptions o = b.Options(std::move(id), version);
  o.username = std::move(user);
  o.password = std::move(password);
  return o;
}

asio::awaitable<ReasonCode> ConnackCode(asio::any_io_executor ex, ConnectOptions o) {
  auto c = Client::Create(ex);
  auto connack = co_await c->Connect(o);
  EXPECT_TRUE(connack.ok()) << connack.status();
  co_return connack.ok() ? connack->reason_code : ReasonCode::kUnspecifiedError;
}

// The raw CONNACK return code a 3.1.1 client sees.
asio::awaitable<uint8_t> Connack311(asio::any_io_executor ex, uint16_t port, std::string id,
                                    std::optional<std::string> user,
                                    std::optional<std::string> password) {
  auto raw = co_await RawConnect(ex, port, ProtocolVersion::kMqtt311);
  if (!raw) co_return 0xff;
  protocol::ConnectPacket c = Connect(id, ProtocolVersion::kMqtt311);
  if (user) c.username = *user;
  if (password) c.password = *password;
  OwnedPacket keep;
  auto connack = co_await Handshake(*raw, c, &keep);
  // The return code as on the wire (the decoder maps it to an MQTT 5 reason code).
  co_return connack&& keep.bytes().size() == 4 ? static_cast<uint8_t>(keep.bytes()[3]) : 0xff;
}

TEST(PasswordTest, WrongPasswordIsRefusedAndLeavesNoSession) {
  BrokerFixture b(WithUsers("users-1.txt"));
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    EXPECT_EQ(co_await ConnackCode(ex, As(b, "a2", "alice", "looking-glass")),
              ReasonCode::kBadUserNameOrPassword);
    EXPECT_EQ(co_await ConnackCode(ex, As(b, "a3", "nobody", "x")),
              ReasonCode::kBadUserNameOrPassword);
    EXPECT_EQ(co_await ConnackCode(ex, As(b, "a4", std::nullopt, std::nullopt)),
              ReasonCode::kNotAuthorized);  // no anonymous access on this listener
    // MQTT 3.1.1: 0x04 bad user name or password, 0x05 not authorized.
    EXPECT_EQ(co_await Connack311(ex, b.port(), "b1", "bob", "wrong"), 0x04);
    EXPECT_EQ(co_await Connack311(ex, b.port(), "b2", std::nullopt, std::nullopt), 0x05);
    // No session was created, no client was ever connected.
    const core::StatsSnapshot s = b.broker().Snapshot();
    EXPECT_EQ(s.sessions, 0);
    EXPECT_EQ(s.clients_maximum, 0);
    EXPECT_EQ(co_await ConnackCode(ex, As(b, "a1", "alice", "wonderland")), ReasonCode::kSuccess);
    EXPECT_EQ(co_await Connack311(ex, b.port(), "b3", "bob", "builder"), 0x00);
  });
}

TEST(PasswordTest, PasswordFileIsReloaded) {
  config::Config c = WithUsers("users-reload.txt");
  BrokerFixture b(c);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    EXPECT_EQ(co_await ConnackCode(ex, As(b, "c1", "carol", "pw")),
              ReasonCode::kBadUserNameOrPassword);
    absl::StatusOr<auth::PasswordFile> file = auth::PasswordFile::Load(c.auth.password_file);
    auth::PasswordEntry entry;
    entry.password_hash = *auth::HashPassword("pw", auth::HashScheme::kPbkdf2Sha512);
    file->Set("carol", entry);
    EXPECT_TRUE(file->Save(c.auth.password_file).ok());
    EXPECT_TRUE(b.server().Reload().ok());
    EXPECT_EQ(co_await ConnackCode(ex, As(b, "c2", "carol", "pw")), ReasonCode::kSuccess);
  });
}

TEST(PasswordTest, FailedAuthenticationsAreThrottledPerAddress) {
  config::Config c = WithUsers("users-throttle.txt");
  c.auth.failed_auth_limit = 3;
  BrokerFixture b(c);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(co_await ConnackCode(ex, As(b, "t", "alice", "guess")),
                ReasonCode::kBadUserNameOrPassword);
    }
    // Blocked now, even with the right password, and for MQTT 3.1.1 too.
    EXPECT_EQ(co_await ConnackCode(ex, As(b, "t", "alice", "wonderland")), ReasonCode::kBanned);
    EXPECT_EQ(co_await Connack311(ex, b.port(), "t", "alice", "wonderland"), 0x05);
  });
}

// SCRAM-SHA-256 over AUTH (MQTT 5 §4.12) against the password file. (A lambda defined in a
// coroutine body trips GCC 12, hence a function.)
std::function<absl::StatusOr<std::string>(const protocol::AuthPacket&)> ScramAnswer(
    std::shared_ptr<auth::ScramClient> scram) {
  return [scram](const protocol::AuthPacket& a) -> absl::StatusOr<std::string> {
    return scram->FinalMessage(a.properties.authentication_data.value_or(""));
  };
}

ConnectOptions Scram(BrokerFixture& b, std::string id, std::shared_ptr<auth::ScramClient> scram) {
  ConnectOptions o = b.Options(std::move(id));
  protocol::Properties p;
  const std::string first = scram->FirstMessage();
  p.authentication_method = auth::kScramSha256;
  p.authentication_data = first;
  o.properties = protocol::OwnedProperties(p);
  o.on_auth = ScramAnswer(scram);
  return o;
}

TEST(ScramTest, SuccessFailureAndReauthentication) {
  BrokerFixture b(WithUsers("users-scram.txt"));
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto scram = std::make_shared<auth::ScramClient>("alice", "wonderland");
    auto client = Client::Create(ex);
    auto connack = co_await client->Connect(Scram(b, "scram-1", scram));
    EXPECT_TRUE(connack.ok()) << connack.status();
    if (!connack.ok()) co_return;
    EXPECT_EQ(connack->reason_code, ReasonCode::kSuccess);
    // The server proves it knows the credentials too.
    const auto& data = connack->properties.view().authentication_data;
    EXPECT_TRUE(data.has_value());
    EXPECT_TRUE(scram->VerifyServerFinal(data.value_or("")).ok());

    // Re-authentication (§4.12.1) with the same method: AUTH 0x19, 0x18, then AUTH Success.
    auto again = std::make_shared<auth::ScramClient>("alice", "wonderland");
    *scram = *again;
    auto reauth = co_await client->Reauthenticate(scram->FirstMessage());
    EXPECT_TRUE(reauth.ok()) << reauth.status();
    if (reauth.ok()) EXPECT_EQ(*reauth, ReasonCode::kSuccess);
    EXPECT_TRUE(scram
                    ->VerifyServerFinal(
                        client->last_auth_properties().view().authentication_data.value_or(""))
                    .ok());
    EXPECT_TRUE(client->connected());

    // A failed re-authentication ends the connection [MQTT-4.12.1-2].
    *scram = auth::ScramClient("alice", "not-the-password");
    auto failed = co_await client->Reauthenticate(scram->FirstMessage());
    EXPECT_TRUE(co_await client->WaitClosed(5s));
    EXPECT_TRUE(client->server_disconnect().has_value());
    if (client->server_disconnect()) {
      EXPECT_EQ(client->server_disconnect()->reason_code, ReasonCode::kNotAuthorized);
    }

    // A wrong password from the start: CONNACK 0x87, no session.
    auto wrong = std::make_shared<auth::ScramClient>("bob", "bricks");
    auto refused = co_await Client::Create(ex)->Connect(Scram(b, "scram-2", wrong));
    EXPECT_TRUE(refused.ok()) << refused.status();
    if (refused.ok()) EXPECT_EQ(refused->reason_code, ReasonCode::kNotAuthorized);
    // Another method is not supported: 0x8C.
    ConnectOptions other = b.Options("scram-3");
    protocol::Properties p;
    p.authentication_method = "SCRAM-SHA-1";
    other.properties = protocol::OwnedProperties(p);
    auto unknown = co_await Client::Create(ex)->Connect(other);
    if (unknown.ok()) EXPECT_EQ(unknown->reason_code, ReasonCode::kBadAuthenticationMethod);
  });
}

// ACL: alice may write and read acl/open/#, only read acl/news/#; bob may read acl/open/#.
config::Config WithAcl(const std::string& name, std::string rules) {
  config::Config c = WithUsers(name + "-users.txt");
  c.auth.acl_file = fmt::format("{}/{}", testing::TestTempDir(), name);
  testing::WriteFile(c.auth.acl_file, rules);
  return c;
}

constexpr char kRules[] =
    "user alice\n"
    "readwrite acl/open/#\n"
    "read acl/news/#\n"
    "user bob\n"
    "read acl/open/#\n";

TEST(AclTest, DeniesPublishAndSubscribeMqtt5) {
  BrokerFixture b(WithAcl("acl-v5.txt", kRules));
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto alice = Client::Create(ex);
    EXPECT_TRUE((co_await alice->Connect(As(b, "alice-1", "alice", "wonderland"))).ok());
    auto suback = co_await alice->Subscribe(Sub("acl/news/#", QoS::kAtLeastOnce));
    auto denied_sub = co_await alice->Subscribe(Sub("acl/secret/#", QoS::kAtLeastOnce));
    auto sys = co_await alice->Subscribe(Sub("$SYS/#"));
    EXPECT_EQ(suback->reason_codes.at(0), ReasonCode::kGrantedQoS1);
    EXPECT_EQ(denied_sub->reason_codes.at(0), ReasonCode::kNotAuthorized);
    EXPECT_EQ(sys->reason_codes.at(0), ReasonCode::kNotAuthorized);
    auto ok = co_await alice->Publish(Msg("acl/open/1", "x", QoS::kAtLeastOnce));
    auto denied = co_await alice->Publish(Msg("acl/news/1", "x", QoS::kAtLeastOnce));
    auto denied2 = co_await alice->Publish(Msg("acl/news/1", "x", QoS::kExactlyOnce));
    EXPECT_EQ(ok->reason_code, ReasonCode::kNoMatchingSubscribers);
    EXPECT_EQ(denied->reason_code, ReasonCode::kNotAuthorized);
    EXPECT_EQ(denied2->reason_code, ReasonCode::kNotAuthorized);
  });
}

TEST(AclTest, DeniesPublishAndSubscribeMqtt311) {
  BrokerFixture b(WithAcl("acl-v311.txt", kRules));
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto bob = Client::Create(ex);
    EXPECT_TRUE(
        (co_await bob->Connect(As(b, "bob-1", "bob", "builder", ProtocolVersion::kMqtt311))).ok());
    auto suback = co_await bob->Subscribe(Sub("acl/open/#", QoS::kAtLeastOnce));
    auto denied_sub = co_await bob->Subscribe(Sub("acl/news/#", QoS::kAtLeastOnce));
    EXPECT_EQ(suback->reason_codes.at(0), ReasonCode::kGrantedQoS1);
    EXPECT_EQ(static_cast<uint8_t>(denied_sub->reason_codes.at(0)), 0x80);  // 3.1.1 failure
    // bob may not write: 3.1.1 cannot refuse a PUBLISH, so it is acknowledged and dropped.
    auto denied = co_await bob->Publish(Msg("acl/open/x", "from bob", QoS::kAtLeastOnce));
    EXPECT_TRUE(denied.ok());
    auto alice = Client::Create(ex);
    EXPECT_TRUE((co_await alice->Connect(
                     As(b, "alice-2", "alice", "wonderland", ProtocolVersion::kMqtt311)))
                    .ok());
    EXPECT_TRUE((co_await alice->Publish(Msg("acl/open/x", "from alice", QoS::kAtLeastOnce))).ok());
    auto m = co_await bob->Receive(5s);
    EXPECT_TRUE(m.ok());
    if (m.ok()) EXPECT_EQ(m->payload, "from alice");  // bob's own message never arrived
  });
}

TEST(AclTest, AclFileIsReloaded) {
  config::Config c = WithAcl("acl-reload.txt", kRules);
  BrokerFixture b(c);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto bob = Client::Create(ex);
    EXPECT_TRUE((co_await bob->Connect(As(b, "bob-2", "bob", "builder"))).ok());
    EXPECT_EQ((co_await bob->Subscribe(Sub("acl/news/#")))->reason_codes.at(0),
              ReasonCode::kNotAuthorized);
    testing::WriteFile(c.auth.acl_file, std::string(kRules) + "read acl/news/#\n");
    EXPECT_TRUE(b.server().Reload().ok());
    EXPECT_EQ((co_await bob->Subscribe(Sub("acl/news/#")))->reason_codes.at(0),
              ReasonCode::kSuccess);  // granted QoS 0
  });
}

// $SYS is readable only through a rule that names it: not by default (even acl_default =
// allow), not by "read #"; and never writable, even with a rule.
TEST(AclTest, SysIsReadableOnlyWhereARuleNamesIt) {
  config::Config c = WithAcl("acl-sys.txt",
                             "user alice\n"
                             "read #\n"
                             "user bob\n"
                             "readwrite $SYS/#\n");
  c.auth.acl_default = config::AclPolicy::kAllow;
  BrokerFixture b(c);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto alice = Client::Create(ex);
    auto bob = Client::Create(ex);
    EXPECT_TRUE((co_await alice->Connect(As(b, "sys-alice", "alice", "wonderland"))).ok());
    EXPECT_TRUE((co_await bob->Connect(As(b, "sys-bob", "bob", "builder"))).ok());
    auto alice_sys = co_await alice->Subscribe(Sub("$SYS/broker/uptime"));
    auto alice_all = co_await alice->Subscribe(Sub("#"));
    auto bob_sys = co_await bob->Subscribe(Sub("$SYS/#"));
    EXPECT_EQ(alice_sys->reason_codes.at(0), ReasonCode::kNotAuthorized);
    EXPECT_EQ(alice_all->reason_codes.at(0), ReasonCode::kSuccess);
    EXPECT_EQ(bob_sys->reason_codes.at(0), ReasonCode::kSuccess);
    auto forged = co_await bob->Publish(Msg("$SYS/broker/uptime", "0", QoS::kAtLeastOnce));
    EXPECT_TRUE(forged.ok());
    if (forged.ok()) EXPECT_EQ(forged->reason_code, ReasonCode::kNotAuthorized);
  });
}

TEST(LimitsTest, ConnectionsPerAddress) {
  config::Config c = testing::TestConfig();
  c.listeners[0].max_connections_per_address = 2;
  BrokerFixture b(c);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto first = Client::Create(ex);
    auto second = Client::Create(ex);
    EXPECT_EQ((co_await first->Connect(b.Options("l1")))->reason_code, ReasonCode::kSuccess);
    EXPECT_EQ((co_await second->Connect(b.Options("l2")))->reason_code, ReasonCode::kSuccess);
    EXPECT_EQ(co_await ConnackCode(ex, b.Options("l3")), ReasonCode::kQuotaExceeded);
    EXPECT_EQ(co_await Connack311(ex, b.port(), "l4", std::nullopt, std::nullopt),
              0x03);  // 3.1.1: server unavailable
    // A slot frees when a connection ends.
    EXPECT_TRUE((co_await first->Disconnect()).ok());
    bool admitted = false;
    for (int i = 0; i < 100 && !admitted; ++i) {
      auto again = Client::Create(ex);
      auto connack = co_await again->Connect(b.Options("l5"));
      admitted = connack.ok() && connack->reason_code == ReasonCode::kSuccess;
    }
    EXPECT_TRUE(admitted);
  });
}

TEST(LimitsTest, ConnectionRate) {
  config::Config c = testing::TestConfig();
  c.listeners[0].connection_rate_per_second = 3;
  BrokerFixture b(c);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    int refused = 0;
    for (int i = 0; i < 6; ++i) {
      if (co_await ConnackCode(ex, b.Options(fmt::format("r{}", i))) ==
          ReasonCode::kConnectionRateExceeded) {
        ++refused;
      }
    }
    EXPECT_GE(refused, 2);  // a burst of 3 per second, then 0x9F
  });
}

// The tighter packet limit holds until authentication has succeeded: an AUTH packet in the
// middle of a SCRAM exchange that is over max_packet_size_before_connect ends the connection,
// and no session is created. Once connected, the larger limit applies.
TEST(LimitsTest, SmallerPacketLimitUntilAuthenticated) {
  config::Config c = WithUsers("users-limit.txt");
  c.mqtt.max_packet_size_before_connect = 512;
  c.mqtt.max_packet_size = 64 * 1024;
  BrokerFixture b(c);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto raw = co_await RawConnect(ex, b.port());
    if (!raw) co_return;
    auth::ScramClient scram("alice", "wonderland");
    const std::string first = scram.FirstMessage();
    protocol::ConnectPacket connect = Connect("limit-scram");
    connect.properties.authentication_method = auth::kScramSha256;
    connect.properties.authentication_data = first;
    raw->Send(connect);
    auto challenge = co_await raw->Receive(5s);
    EXPECT_TRUE(challenge.ok()) << challenge.status();
    if (!challenge.ok()) co_return;
    EXPECT_NE(challenge->get<protocol::AuthPacket>(), nullptr);
    // Padding where a real client would put its proof: 1000 bytes, over the 512-byte limit.
    const std::string padding(1000, 'p');
    protocol::AuthPacket big;
    big.reason_code = ReasonCode::kContinueAuthentication;
    big.properties.authentication_method = auth::kScramSha256;
    big.properties.authentication_data = padding;
    raw->Send(big);
    // Closed, at most after saying why; never a CONNACK accepting it.
    auto answer = co_await raw->Receive(5s);
    if (answer.ok()) {
      const auto* connack = answer->get<protocol::ConnackPacket>();
      const auto* disconnect = answer->get<protocol::DisconnectPacket>();
      EXPECT_TRUE(connack != nullptr || disconnect != nullptr)
          << protocol::PacketTypeName(answer->type());
      if (connack) EXPECT_EQ(connack->reason_code, ReasonCode::kPacketTooLarge);
      if (disconnect) EXPECT_EQ(disconnect->reason_code, ReasonCode::kPacketTooLarge);
    }
    EXPECT_TRUE(co_await raw->WaitClosed(5s));
    EXPECT_EQ(b.broker().Snapshot().sessions, 0);

    // Authenticated, the same client may send a packet far over 512 bytes.
    auto client = Client::Create(ex);
    EXPECT_TRUE((co_await client->Connect(As(b, "limit-ok", "alice", "wonderland"))).ok());
    auto puback =
        co_await client->Publish(Msg("limit/big", std::string(4000, 'x'), QoS::kAtLeastOnce));
    EXPECT_TRUE(puback.ok()) << puback.status();
  });
}

// Records the address the authorizer is shown.
class AddressAuthorizer final : public auth::Authorizer {
 public:
  bool CanPublish(const auth::ClientInfo& client, std::string_view) override {
    absl::MutexLock lock(&mutex_);
    seen_ = client.remote_address;
    return client.remote_address.starts_with("203.0.113.7:") ||
           client.remote_address.starts_with("[2001:db8::7]:");
  }
  bool CanSubscribe(const auth::ClientInfo&, std::string_view) override { return true; }
  std::string seen() {
    absl::MutexLock lock(&mutex_);
    return seen_;
  }

 private:
  absl::Mutex mutex_;
  std::string seen_;
};

TEST(ProxyProtocolTest, TheAuthorizerSeesTheClientAddress) {
  config::Config c = testing::TestConfig();
  c.listeners[0].proxy_protocol = true;
  auto authorizer = std::make_shared<AddressAuthorizer>();
  core::BrokerOptions options;
  options.authorizer = authorizer;
  BrokerFixture b(c, false, options);
  const std::string v2_ipv6 = [] {
    std::string h("\r\n\r\n\0\r\nQUIT\n", 12);
    h += '\x21';  // version 2, PROXY
    h += '\x21';  // TCP over IPv6
    h += std::string("\x00\x24", 2);
    const unsigned char src[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7};
    h.append(reinterpret_cast<const char*>(src), 16);
    h.append(16, '\0');
    h += std::string("\x10\x92\x07\x5b", 4);  // ports 4242, 1883
    return h;
  }();
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    for (const std::string& header :
         {std::string("PROXY TCP4 203.0.113.7 192.0.2.1 4242 1883\r\n"), v2_ipv6}) {
      auto raw = co_await RawConnect(ex, b.port());
      if (!raw) co_return;
      raw->SendRaw(header);
      OwnedPacket keep;
      auto connack = co_await Handshake(*raw, Connect("proxied"), &keep);
      EXPECT_TRUE(connack.has_value());
      protocol::PublishPacket p;
      p.topic = "t";
      p.qos = QoS::kAtLeastOnce;
      p.packet_id = 1;
      raw->Send(p);
      auto ack = co_await raw->Receive(5s);
      EXPECT_TRUE(ack.ok());
      if (ack.ok() && ack->get<protocol::PubackPacket>() != nullptr) {
        EXPECT_EQ(ack->get<protocol::PubackPacket>()->reason_code,
                  ReasonCode::kNoMatchingSubscribers);
      }
    }
    EXPECT_EQ(authorizer->seen(), "[2001:db8::7]:4242");
    // Without the header the connection is closed.
    auto raw = co_await RawConnect(ex, b.port());
    if (!raw) co_return;
    raw->Send(Connect("unproxied"));
    EXPECT_TRUE(co_await raw->WaitClosed(5s));
  });
}

// A password check that takes a while, to show it does not hold up the worker.
class SlowAuthenticator final : public auth::Authenticator {
 public:
  ReasonCode CheckPassword(const auth::ClientInfo& client,
                           std::optional<std::string_view>) override {
    if (client.username == "slow") std::this_thread::sleep_for(std::chrono::milliseconds(800));
    return ReasonCode::kSuccess;
  }
  std::unique_ptr<auth::AuthExchange> StartExchange(std::string_view,
                                                    const auth::ClientInfo&) override {
    return nullptr;
  }
  bool password_check_blocks() const override { return true; }
};

TEST(SlowPasswordTest, OtherClientsOnTheWorkerGoOnAndPipelinedPacketsWait) {
  config::Config c = testing::TestConfig();
  c.workers = 1;
  core::BrokerOptions options;
  options.authenticator = std::make_shared<SlowAuthenticator>();
  BrokerFixture b(c, false, options);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    // The slow client pipelines SUBSCRIBE and PINGREQ right behind its CONNECT.
    auto slow = co_await RawConnect(ex, b.port());
    if (!slow) co_return;
    protocol::ConnectPacket connect = Connect("slow-client");
    connect.username = "slow";
    slow->Send(connect);
    protocol::SubscribePacket s;
    s.packet_id = 7;
    protocol::TopicSubscription sub;
    sub.filter = "x";
    s.subscriptions.push_back(sub);
    slow->Send(s);
    slow->Send(protocol::PingreqPacket{});
    // Meanwhile another client on the same (only) worker connects at once.
    const auto start = std::chrono::steady_clock::now();
    auto fast = Client::Create(ex);
    auto connack = co_await fast->Connect(b.Options("fast-client"));
    EXPECT_TRUE(connack.ok());
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(600));
    // The slow one gets CONNACK, then SUBACK, then PINGRESP, in order.
    auto p1 = co_await slow->Receive(5s);
    auto p2 = co_await slow->Receive(5s);
    auto p3 = co_await slow->Receive(5s);
    EXPECT_TRUE(p1.ok() && p1->get<protocol::ConnackPacket>() != nullptr);
    EXPECT_TRUE(p2.ok() && p2->get<protocol::SubackPacket>() != nullptr);
    EXPECT_TRUE(p3.ok() && p3->type() == protocol::PacketType::kPingresp);
    // A client that leaves during its check leaves nothing behind.
    auto gone = co_await RawConnect(ex, b.port());
    if (!gone) co_return;
    gone->Send(connect);
    gone->Close();
  });
}

}  // namespace
}  // namespace simq::server

// TLS, mTLS, WebSocket and WSS listeners end to end, with the project's client over each
// transport, certificates made by the test (broker/testing/certs.h). Two workers: a client
// whose session lives on the other worker than the one that accepted it is relayed
// (broker/net/relay_link.h); the tests pick client ids to get both cases.

#include <filesystem>

#include <gtest/gtest.h>

#include "fmt/format.h"
#include "gmock/gmock.h"

#include "broker/core/broker.h"
#include "broker/server/test_util.h"
#include "broker/testing/certs.h"
#include "broker/testing/coro.h"
#include "broker/testing/process.h"

namespace simq::server {
namespace {

using client::Scheme;
using testing::BrokerFixture;
using testing::RunCoroutine;

struct Pki {
  testing::TestCa ca;
  testing::KeyPair server;
  testing::KeyPair client;
  std::string dir;
};

Pki MakePki(const std::string& name) {
  Pki pki;
  pki.dir = fmt::format("{}/{}", testing::TestTempDir(), name);
  std::filesystem::create_directories(pki.dir);
  pki.ca = testing::MakeCa(pki.dir, "ca");
  pki.server = testing::IssueServerCert(pki.ca, pki.dir, "server");
  pki.client = testing::IssueClientCert(pki.ca, pki.dir, "client", "/CN=device-1",
                                        "email:device-1@example.com");
  return pki;
}

config::ListenerConfig Listener(config::ListenerType type, const std::string& name,
                                const Pki* pki = nullptr) {
  config::ListenerConfig l;
  l.type = type;
  l.bind = "127.0.0.1";
  l.port = 0;
  l.name = name;
  if (pki != nullptr) {
    l.cert_file = pki->server.cert;
    l.key_file = pki->server.key;
  }
  return l;
}

// A client id whose session lives on worker `home`.
std::string IdWithHome(core::Broker& broker, const std::string& prefix, uint32_t home) {
  for (int i = 0;; ++i) {
    std::string id = fmt::format("{}-{}", prefix, i);
    if (broker.HomeWorker(id) == home) return id;
  }
}

ConnectOptions Over(BrokerFixture& b, size_t listener, Scheme scheme, std::string id,
                    const Pki* pki = nullptr, ProtocolVersion version = ProtocolVersion::kMqtt5) {
  ConnectOptions o = b.Options(std::move(id), version);
  o.endpoint.port = b.server().ports().at(listener);
  o.endpoint.scheme = scheme;
  if (pki != nullptr) o.endpoint.tls.ca_file = pki->ca.cert;
  o.connect_timeout = 5s;
  return o;
}

// Publisher and subscriber on `scheme`; the subscriber receives a small and a large message
// (several TLS records / WebSocket reads) in order.
asio::awaitable<void> RoundTrip(asio::any_io_executor ex, ConnectOptions sub_options,
                                ConnectOptions pub_options) {
  auto sub = Client::Create(ex);
  auto connack = co_await sub->Connect(sub_options);
  EXPECT_TRUE(connack.ok()) << connack.status();
  if (!connack.ok()) co_return;
  EXPECT_EQ(connack->reason_code, ReasonCode::kSuccess);
  auto suback = co_await sub->Subscribe(Sub("t/#", QoS::kAtLeastOnce));
  EXPECT_TRUE(suback.ok());
  auto pub = Client::Create(ex);
  auto pub_connack = co_await pub->Connect(pub_options);
  EXPECT_TRUE(pub_connack.ok()) << pub_connack.status();
  if (!pub_connack.ok()) co_return;
  const std::string large(300 * 1024, 'x');
  auto r1 = co_await pub->Publish(Msg("t/1", "small", QoS::kAtLeastOnce));
  auto r2 = co_await pub->Publish(Msg("t/2", large, QoS::kAtLeastOnce));
  EXPECT_TRUE(r1.ok() && r2.ok());
  if (r1.ok()) EXPECT_EQ(r1->reason_code, ReasonCode::kSuccess);
  auto m1 = co_await sub->Receive(5s);
  auto m2 = co_await sub->Receive(5s);
  EXPECT_TRUE(m1.ok()) << m1.status();
  EXPECT_TRUE(m2.ok()) << m2.status();
  if (m1.ok()) EXPECT_EQ(m1->payload, "small");
  if (m2.ok()) EXPECT_EQ(m2->payload.size(), large.size());
  EXPECT_TRUE((co_await pub->Disconnect()).ok());
  EXPECT_TRUE((co_await sub->Disconnect()).ok());
}

TEST(TransportTest, TlsRoundTripRelayedAndDirect) {
  const Pki pki = MakePki("tls-roundtrip");
  config::Config c = testing::TestConfig();
  c.listeners.push_back(Listener(config::ListenerType::kTls, "tls", &pki));
  BrokerFixture b(c);
  // Connections to the TLS listener are accepted on workers 0, 1, 0, ... in turn: the first
  // client lives on worker 1 (relayed from 0), the second too (accepted there: direct).
  const std::string relayed = IdWithHome(b.broker(), "relayed", 1);
  const std::string direct = IdWithHome(b.broker(), "direct", 1);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    co_await RoundTrip(ex, Over(b, 1, Scheme::kTls, relayed, &pki),
                       Over(b, 1, Scheme::kTls, direct, &pki, ProtocolVersion::kMqtt311));
  });
}

TEST(TransportTest, TlsWithAnUntrustedCaIsRefused) {
  const Pki pki = MakePki("tls-untrusted");
  const Pki other = MakePki("tls-other");
  config::Config c = testing::TestConfig();
  c.listeners.push_back(Listener(config::ListenerType::kTls, "tls", &pki));
  BrokerFixture b(c);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto client = Client::Create(ex);
    auto connack = co_await client->Connect(Over(b, 1, Scheme::kTls, "c", &other));
    EXPECT_FALSE(connack.ok());
    EXPECT_EQ(connack.status().code(), absl::StatusCode::kPermissionDenied) << connack.status();
    EXPECT_THAT(std::string(connack.status().message()),
                ::testing::HasSubstr("certificate verify failed"));
  });
}

TEST(TransportTest, MutualTlsNeedsAClientCertificateAndUsesItsIdentity) {
  const Pki pki = MakePki("mtls");
  const Pki stranger = MakePki("mtls-stranger");
  config::Config c = testing::TestConfig();
  config::ListenerConfig l = Listener(config::ListenerType::kTls, "mtls", &pki);
  l.ca_file = pki.ca.cert;
  l.require_client_cert = true;
  l.identity_as_username = config::CertificateIdentity::kCn;
  l.allow_anonymous = false;
  c.listeners.push_back(l);
  // The certificate's CN is the user the ACL knows.
  const std::string acl = testing::TestTempDir() + "/mtls-acl.txt";
  testing::WriteFile(acl, "user device-1\nreadwrite devices/device-1/#\n");
  c.auth.acl_file = acl;
  BrokerFixture b(c);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    // No certificate: refused during or right after the TLS handshake.
    auto anonymous = Client::Create(ex);
    auto refused = co_await anonymous->Connect(Over(b, 1, Scheme::kTls, "anon", &pki));
    EXPECT_TRUE(!refused.ok() || refused->reason_code != ReasonCode::kSuccess);
    // A certificate from another CA: refused.
    ConnectOptions wrong = Over(b, 1, Scheme::kTls, "wrong", &pki);
    wrong.endpoint.tls.cert_file = stranger.client.cert;
    wrong.endpoint.tls.key_file = stranger.client.key;
    auto wrong_client = Client::Create(ex);
    auto refused_too = co_await wrong_client->Connect(wrong);
    EXPECT_TRUE(!refused_too.ok() || refused_too->reason_code != ReasonCode::kSuccess);
    // The right certificate: in, as user device-1, whatever the CONNECT says.
    ConnectOptions o = Over(b, 1, Scheme::kTls, "dev", &pki);
    o.endpoint.tls.cert_file = pki.client.cert;
    o.endpoint.tls.key_file = pki.client.key;
    o.username = "someone-else";
    auto device = Client::Create(ex);
    auto connack = co_await device->Connect(o);
    EXPECT_TRUE(connack.ok()) << connack.status();
    if (!connack.ok()) co_return;
    EXPECT_EQ(connack->reason_code, ReasonCode::kSuccess);
    auto allowed = co_await device->Publish(Msg("devices/device-1/t", "1", QoS::kAtLeastOnce));
    auto denied = co_await device->Publish(Msg("devices/device-2/t", "1", QoS::kAtLeastOnce));
    EXPECT_TRUE(allowed.ok() && denied.ok());
    if (allowed.ok()) EXPECT_EQ(allowed->reason_code, ReasonCode::kNoMatchingSubscribers);
    if (denied.ok()) EXPECT_EQ(denied->reason_code, ReasonCode::kNotAuthorized);
  });
}

TEST(TransportTest, CertificateReloadKeepsConnectionsAndServesTheNewCertificate) {
  const Pki old_pki = MakePki("reload-old");
  const Pki new_pki = MakePki("reload-new");
  // The listener reads its files from here; the test replaces them.
  const std::string cert = testing::TestTempDir() + "/reload-server.pem";
  const std::string key = testing::TestTempDir() + "/reload-server.key";
  std::filesystem::copy_file(old_pki.server.cert, cert);
  std::filesystem::copy_file(old_pki.server.key, key);
  config::Config c = testing::TestConfig();
  config::ListenerConfig l = Listener(config::ListenerType::kTls, "tls");
  l.cert_file = cert;
  l.key_file = key;
  c.listeners.push_back(l);
  BrokerFixture b(c);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto kept = Client::Create(ex);
    auto connack = co_await kept->Connect(Over(b, 1, Scheme::kTls, "kept", &old_pki));
    EXPECT_TRUE(connack.ok()) << connack.status();
    if (!connack.ok()) co_return;
    EXPECT_TRUE((co_await kept->Subscribe(Sub("r/#", QoS::kAtLeastOnce))).ok());

    // A broken file: the reload fails and nothing changes.
    testing::WriteFile(cert, "not a certificate");
    EXPECT_FALSE(b.server().Reload().ok());
    std::filesystem::copy_file(new_pki.server.cert, cert,
                               std::filesystem::copy_options::overwrite_existing);
    std::filesystem::copy_file(new_pki.server.key, key,
                               std::filesystem::copy_options::overwrite_existing);
    EXPECT_TRUE(b.server().Reload().ok());

    // The established connection keeps working.
    auto r = co_await kept->Publish(Msg("r/1", "after reload", QoS::kAtLeastOnce));
    EXPECT_TRUE(r.ok()) << r.status();
    auto m = co_await kept->Receive(5s);
    EXPECT_TRUE(m.ok()) << m.status();
    if (m.ok()) EXPECT_EQ(m->payload, "after reload");
    // New clients see the new certificate: trusted through the new CA only.
    auto fresh = Client::Create(ex);
    auto fresh_connack = co_await fresh->Connect(Over(b, 1, Scheme::kTls, "fresh", &new_pki));
    EXPECT_TRUE(fresh_connack.ok()) << fresh_connack.status();
    auto stale = Client::Create(ex);
    auto stale_connack = co_await stale->Connect(Over(b, 1, Scheme::kTls, "stale", &old_pki));
    EXPECT_FALSE(stale_connack.ok());
    EXPECT_TRUE(kept->connected());
  });
}

TEST(TransportTest, WebSocketRoundTripsAndRefusesAWrongSubprotocolOrPath) {
  config::Config c = testing::TestConfig();
  c.listeners.push_back(Listener(config::ListenerType::kWs, "ws"));
  BrokerFixture b(c);
  const std::string relayed = IdWithHome(b.broker(), "ws-relayed", 1);
  const std::string direct = IdWithHome(b.broker(), "ws-direct", 1);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    co_await RoundTrip(ex, Over(b, 1, Scheme::kWs, relayed),
                       Over(b, 1, Scheme::kWs, direct, nullptr, ProtocolVersion::kMqtt311));

    ConnectOptions wrong = Over(b, 1, Scheme::kWs, "wrong-protocol");
    wrong.endpoint.ws_subprotocol = "chat";
    auto client = Client::Create(ex);
    auto refused = co_await client->Connect(wrong);
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition) << refused.status();
    EXPECT_THAT(std::string(refused.status().message()), ::testing::HasSubstr("HTTP 400"));

    ConnectOptions elsewhere = Over(b, 1, Scheme::kWs, "wrong-path");
    elsewhere.endpoint.ws_path = "/other";
    auto lost = co_await Client::Create(ex)->Connect(elsewhere);
    EXPECT_THAT(std::string(lost.status().message()), ::testing::HasSubstr("HTTP 404"));
  });
}

TEST(TransportTest, SecureWebSocketRoundTrip) {
  const Pki pki = MakePki("wss");
  config::Config c = testing::TestConfig();
  config::ListenerConfig l = Listener(config::ListenerType::kWss, "wss", &pki);
  l.ws_path = "/mqtt-secure";
  c.listeners.push_back(l);
  BrokerFixture b(c);
  const std::string relayed = IdWithHome(b.broker(), "wss-relayed", 1);
  const std::string direct = IdWithHome(b.broker(), "wss-direct", 1);
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    ConnectOptions sub = Over(b, 1, Scheme::kWss, relayed, &pki);
    ConnectOptions pub = Over(b, 1, Scheme::kWss, direct, &pki);
    sub.endpoint.ws_path = pub.endpoint.ws_path = "/mqtt-secure";
    co_await RoundTrip(ex, sub, pub);
  });
}

// A relayed client that stops reading: the broker's watermarks see the bytes queued on the
// other worker, QoS 0 is dropped and counted rather than buffered without bound.
TEST(TransportTest, RelayKeepsBackpressure) {
  config::Config c = testing::TestConfig();
  c.listeners.push_back(Listener(config::ListenerType::kWs, "ws"));
  c.backpressure.write_buffer_high_watermark = 64 * 1024;
  c.backpressure.write_buffer_low_watermark = 16 * 1024;
  BrokerFixture b(c);
  const std::string slow = IdWithHome(b.broker(), "slow", 1);  // accepted on 0: relayed
  RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto raw = co_await RawConnection::Connect(ex, Over(b, 1, Scheme::kWs, slow).endpoint,
                                               ProtocolVersion::kMqtt5);
    EXPECT_TRUE(raw.ok()) << raw.status();
    if (!raw.ok()) co_return;
    OwnedPacket keep;
    auto connack = co_await Handshake(**raw, Connect(slow), &keep);
    EXPECT_TRUE(connack.has_value());
    protocol::SubscribePacket s;
    s.packet_id = 1;
    protocol::TopicSubscription sub;
    sub.filter = "flood";
    s.subscriptions.push_back(sub);
    (*raw)->Send(s);
    auto suback = co_await (*raw)->Receive(5s);
    EXPECT_TRUE(suback.ok());
    // The raw connection now reads nothing more. Publish far more than the watermarks allow.
    auto pub = Client::Create(ex);
    EXPECT_TRUE((co_await pub->Connect(b.Options("flooder"))).ok());
    const std::string payload(8 * 1024, 'p');
    for (int i = 0; i < 2000; ++i) co_await pub->Publish(Msg("flood", payload));
    bool dropped = false;
    for (int i = 0; i < 500 && !dropped; ++i) {
      dropped =
          b.broker().Snapshot().dropped[static_cast<size_t>(core::DropReason::kQoS0Backpressure)] >
          0;
      asio::steady_timer t(ex, 10ms);
      co_await t.async_wait(asio::use_awaitable);
    }
    EXPECT_TRUE(dropped) << "a stalled relayed consumer must push back on the publisher's worker";
  });
}

}  // namespace
}  // namespace simq::server

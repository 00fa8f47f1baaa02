// The conformance suite's test harness: a packet-level connection that keeps the exact bytes the
// server sent, the per-test context (unique client ids and topics, time bounds, PASS/FAIL/SKIP),
// and builders for well-formed and deliberately broken packets.
//
// A test is a coroutine over a `T`:
//
//   asio::awaitable<void> NoLocal(T& t) {
//     auto c = co_await t.Connect(t.Spec("sub"));           // CONNACK 0x00 or the test fails
//     if (!c) co_return;
//     if (!co_await t.Subscribe(*c, t.Topic("x"), SubOpts(QoS::kAtLeastOnce, /*no_local=*/true)))
//       co_return;
//     ...
//     if (!co_await t.ExpectNoPublish(*c)) co_return;         // fails with what did arrive
//   }
//
// Every wait is bounded (Options::wait, 5 s by default; "nothing arrives" checks use
// Options::quiet), and the runner bounds the whole test (Options::test_timeout, 20 s).
//
// Thread: everything runs on the runner's single io_context thread; nothing here is
// thread-safe. Lifetime: a Conn belongs to the test coroutine that opened it.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "boost/asio/any_io_executor.hpp"
#include "boost/asio/awaitable.hpp"

#include "broker/client/packet_stream.h"
#include "broker/client/transport.h"
#include "broker/protocol/packets.h"

namespace simq::conformance {

namespace asio = boost::asio;
using Ms = std::chrono::milliseconds;
using protocol::PacketType;
using protocol::ProtocolVersion;
using protocol::QoS;
using protocol::ReasonCode;

inline constexpr ProtocolVersion kV5 = ProtocolVersion::kMqtt5;
inline constexpr ProtocolVersion kV311 = ProtocolVersion::kMqtt311;

struct Options {
  client::Endpoint endpoint;
  Ms wait{5000};           // longest wait for one expected packet
  Ms quiet{500};           // how long "nothing arrives" is watched
  Ms test_timeout{20000};  // bound of one whole test
};

// What the server under test advertised to an MQTT 5 client (its CONNACK properties), read once
// before the tests run. Tests that need a feature the server does not offer SKIP; tests of a
// server without a feature run only when the server says it lacks it.
struct Capabilities {
  bool v5 = false;  // the server accepted an MQTT 5 CONNECT
  uint8_t max_qos = 2;
  bool retain_available = true;
  bool wildcard_subscriptions = true;
  bool subscription_identifiers = true;
  bool shared_subscriptions = true;
  uint16_t receive_maximum = 65535;
  std::optional<uint32_t> max_packet_size;
  uint16_t topic_alias_maximum = 0;
  std::optional<uint16_t> server_keep_alive;
  std::string Describe() const;
};

// One thing a connection produced: a packet, or the end of waiting.
struct Event {
  enum class Kind { kPacket, kTimeout, kClosed, kBadPacket };
  Kind kind = Kind::kTimeout;
  client::OwnedPacket packet;  // kPacket
  std::string raw;             // kPacket, kBadPacket: the bytes as received
  absl::Status error;          // kBadPacket: why it did not decode
  std::string topic;           // PUBLISH: the Topic Name, resolved through Topic Aliases

  bool is_packet() const { return kind == Kind::kPacket; }
  PacketType type() const { return packet.type(); }
  template <typename P>
  const P* get() const {
    return kind == Kind::kPacket ? packet.get<P>() : nullptr;
  }
  // "PUBLISH qos=1 id=3 topic=a/b", "connection closed", "no packet within 5000 ms", ...
  std::string Describe() const;
};

// An application message as a client received it, copied out of its PUBLISH.
struct Msg {
  std::string topic;       // resolved through the connection's Topic Alias mappings
  std::string wire_topic;  // as sent (empty when only an alias was sent)
  std::optional<uint16_t> alias;
  std::string payload;
  QoS qos = QoS::kAtMostOnce;
  bool retain = false;
  bool dup = false;
  uint16_t packet_id = 0;
  protocol::OwnedProperties props;
  std::string raw;
  const protocol::Properties& p() const { return props.view(); }
  std::string Describe() const;
};

// A packet-level MQTT connection for tests. Packets the test is not waiting for are kept, in
// order, for later reads. With auto_ack (the default) it acknowledges what the server sends:
// PUBACK for QoS 1, PUBREC for QoS 2, PUBCOMP for PUBREL.
class Conn {
 public:
  static asio::awaitable<absl::StatusOr<std::unique_ptr<Conn>>> Open(
      asio::any_io_executor executor, const client::Endpoint& endpoint, ProtocolVersion version,
      Ms timeout);

  explicit Conn(std::shared_ptr<client::PacketStream> stream, ProtocolVersion version);
  ~Conn();

  ProtocolVersion version() const { return version_; }
  bool v5() const { return version_ == kV5; }
  void Send(const protocol::Packet& packet);
  void SendRaw(std::string_view bytes);
  // Drops the network connection without DISCONNECT (a network failure, for the server).
  void Drop();
  bool closed() const { return closed_; }
  uint16_t NextPacketId();

  // The next event: a kept packet first, else whatever arrives within `timeout`.
  asio::awaitable<Event> Next(Ms timeout);
  // The first packet for which `match` is true (kept packets first); others are kept. Returns
  // the timeout / close / bad-packet event if that comes first.
  asio::awaitable<Event> Await(std::function<bool(const Event&)> match, Ms timeout);
  // Waits until the server closes the connection; the packets received meanwhile are returned.
  // False if it is still open after `timeout`.
  asio::awaitable<bool> WaitClosed(Ms timeout, std::vector<Event>* received);
  // Drops every kept packet.
  void ClearKept() { kept_.clear(); }
  const std::deque<Event>& kept() const { return kept_; }

  void set_auto_ack(bool on) { auto_ack_ = on; }
  // Converts a received PUBLISH to a Msg, resolving aliases this connection has seen.
  Msg ToMsg(const Event& e);

  // Set SIMQ_CONFORMANCE_TRACE=1 to print every packet sent and received on stderr, labelled.
  std::string label;
  std::string client_id;
  protocol::ConnackPacket connack;  // after T::Connect; views into connack_packet
  client::OwnedPacket connack_packet;

 private:
  asio::awaitable<Event> Read(Ms timeout);

  std::shared_ptr<client::PacketStream> stream_;
  ProtocolVersion version_;
  std::deque<Event> kept_;
  std::map<uint16_t, std::string> inbound_aliases_;
  bool auto_ack_ = true;
  bool closed_ = false;
  uint16_t next_packet_id_ = 0;
};

// ---- Packet specifications (built outside coroutines: GCC 12 cannot form initializer lists of
// class types from string literals inside coroutine bodies) ----

using StringPairs = std::vector<std::pair<std::string, std::string>>;

struct WillSpec {
  std::string topic;
  std::string payload = "will";
  QoS qos = QoS::kAtMostOnce;
  bool retain = false;
  std::optional<uint32_t> delay;
  std::optional<uint32_t> message_expiry;
  std::optional<uint8_t> payload_format;
  std::optional<std::string> content_type;
  std::optional<std::string> response_topic;
  std::optional<std::string> correlation_data;
  StringPairs user_properties;
};

struct ConnectSpec {
  std::string client_id;
  ProtocolVersion version = kV5;
  bool clean_start = true;
  uint16_t keep_alive = 0;
  std::optional<uint32_t> session_expiry;
  std::optional<uint16_t> receive_maximum;
  std::optional<uint32_t> max_packet_size;
  std::optional<uint16_t> topic_alias_maximum;
  std::optional<uint8_t> request_response_info;
  std::optional<uint8_t> request_problem_info;
  std::optional<std::string> auth_method;
  std::optional<std::string> auth_data;
  std::optional<std::string> username;
  std::optional<std::string> password;
  std::optional<WillSpec> will;
  StringPairs user_properties;
};
std::string EncodeConnect(const ConnectSpec& spec);

struct PubSpec {
  std::string topic;
  std::string payload = "x";
  QoS qos = QoS::kAtMostOnce;
  bool retain = false;
  bool dup = false;
  uint16_t packet_id = 0;  // 0: the connection's next one (QoS > 0)
  std::optional<uint32_t> message_expiry;
  std::optional<uint8_t> payload_format;
  std::optional<std::string> content_type;
  std::optional<std::string> response_topic;
  std::optional<std::string> correlation_data;
  std::optional<uint16_t> topic_alias;
  std::vector<uint32_t> subscription_ids;  // never valid from a client: for error tests
  StringPairs user_properties;
};
std::string EncodePublish(const PubSpec& spec, ProtocolVersion version);
PubSpec Pub(std::string topic, std::string payload = "x", QoS qos = QoS::kAtMostOnce,
            bool retain = false);

protocol::SubscriptionOptions SubOpts(
    QoS qos, bool no_local = false, bool rap = false,
    protocol::RetainHandling rh = protocol::RetainHandling::kSendOnSubscribe);
struct SubSpec {
  std::vector<std::pair<std::string, protocol::SubscriptionOptions>> filters;
  std::optional<uint32_t> subscription_id;
  uint16_t packet_id = 0;
};
SubSpec Sub(std::string filter, QoS qos = QoS::kAtMostOnce);
SubSpec Sub(std::string filter, protocol::SubscriptionOptions options);
SubSpec SubWithId(std::string filter, QoS qos, uint32_t id);
SubSpec Subs(std::vector<std::string> filters, QoS qos = QoS::kAtMostOnce);
std::string EncodeSubscribe(const SubSpec& spec, ProtocolVersion version);
std::string EncodeUnsubscribe(const std::vector<std::string>& filters, uint16_t packet_id,
                              ProtocolVersion version);

// Hand-made bytes, for packets the codec would refuse to encode.
class RawPacket {
 public:
  RawPacket& U8(uint8_t v);
  RawPacket& U16(uint16_t v);
  RawPacket& U32(uint32_t v);
  RawPacket& VarInt(uint32_t v);
  RawPacket& Str(std::string_view s);  // two-byte length, then the bytes as given
  RawPacket& Bytes(std::string_view s);
  // A property block: its Variable Byte Integer length, then `props` (RawPacket's body).
  RawPacket& Props(const RawPacket& props);
  const std::string& body() const { return body_; }
  // Fixed header `first_byte`, the minimal Remaining Length, then the body.
  std::string Build(uint8_t first_byte) const;

 private:
  std::string body_;
};

// ---- Test context ----

class T {
 public:
  T(asio::any_io_executor executor, const Options& options, const Capabilities& caps,
    ProtocolVersion version, std::string name, std::string run_tag, int index);

  asio::any_io_executor ex() const { return executor_; }
  const Options& opt() const { return options_; }
  const Capabilities& caps() const { return caps_; }
  ProtocolVersion version() const { return version_; }
  bool v5() const { return version_ == kV5; }
  const std::string& name() const { return name_; }
  Ms wait() const { return options_.wait; }
  Ms quiet() const { return options_.quiet; }

  // A client identifier unique to this run and test, at most 23 bytes of [0-9a-zA-Z-].
  std::string Id(std::string_view tag = "c");
  // A topic unique to this run and test: "simq-conf/<run>/<test>/<tag>".
  std::string Topic(std::string_view tag = "t");
  // A ConnectSpec for this test's version with a fresh client id.
  ConnectSpec Spec(std::string_view tag = "c");

  // The first failure wins; later calls are ignored. Returns false, for `return t.Fail(...)`.
  bool Fail(std::string message);
  void Skip(std::string message);
  bool failed() const { return failed_; }
  bool skipped() const { return skipped_; }
  const std::string& message() const { return message_; }

  // Skips unless the server offers the feature (from Capabilities). True when it does.
  bool NeedRetain();
  bool NeedWildcards();
  bool NeedSharedSubscriptions();
  bool NeedSubscriptionIds();
  bool NeedQoS(QoS qos);

  // ---- Coroutine helpers; each fails the test (and returns empty) on anything unexpected ----

  // A raw connection with nothing sent yet.
  asio::awaitable<std::unique_ptr<Conn>> Open(ProtocolVersion version);
  asio::awaitable<std::unique_ptr<Conn>> Open() { return Open(version_); }
  // CONNECT and a successful CONNACK.
  asio::awaitable<std::unique_ptr<Conn>> Connect(ConnectSpec spec);
  // CONNECT and whatever answers: the CONNACK event, or close/timeout.
  asio::awaitable<Event> ConnectRaw(Conn& c, const ConnectSpec& spec);
  // SUBSCRIBE and its SUBACK (same packet id, one code per filter); the reason codes.
  asio::awaitable<std::optional<std::vector<ReasonCode>>> Subscribe(Conn& c, SubSpec spec,
                                                                    bool expect_success = true);
  asio::awaitable<bool> Subscribe(Conn& c, std::string filter, QoS qos = QoS::kAtMostOnce);
  asio::awaitable<std::optional<std::vector<ReasonCode>>> Unsubscribe(
      Conn& c, std::vector<std::string> filters);
  // Publishes and completes the QoS flow; returns the PUBACK/PUBREC reason code (Success for
  // QoS 0). A code of 0x80 or above fails the test unless `accept_errors`.
  asio::awaitable<std::optional<ReasonCode>> Publish(Conn& c, PubSpec spec,
                                                     bool accept_errors = false);
  // The next PUBLISH (other packets are kept).
  asio::awaitable<std::optional<Msg>> ExpectPublish(Conn& c, std::optional<Ms> timeout = {});
  // Waits for a PUBLISH on `topic` (PUBLISHes on other topics are dropped).
  asio::awaitable<std::optional<Msg>> ExpectPublishOn(Conn& c, std::string topic,
                                                      std::optional<Ms> timeout = {});
  // True if no PUBLISH arrives within the quiet period (or `window`).
  asio::awaitable<bool> ExpectNoPublish(Conn& c, std::optional<Ms> window = {},
                                        std::string_view what = "no PUBLISH");
  // The next packet of type P.
  template <typename P>
  asio::awaitable<std::optional<client::OwnedPacket>> Expect(Conn& c, std::string_view what,
                                                             std::optional<Ms> timeout = {});
  // The server must close the connection within the wait; `disconnect` receives the reason of
  // a DISCONNECT it sent first, if any. `why` names the situation for the failure message.
  asio::awaitable<bool> ExpectClosed(Conn& c, std::string_view why,
                                     std::optional<ReasonCode>* disconnect = nullptr);
  // ExpectClosed, and an MQTT 5 DISCONNECT, if sent, must carry one of `codes`.
  asio::awaitable<bool> ExpectClosedWith(Conn& c, std::string_view why,
                                         std::vector<ReasonCode> codes);
  // Waits `d` (real time).
  asio::awaitable<void> Sleep(Ms d);
  // Connects a client with Clean Start 1 and Session Expiry 0 and disconnects it normally,
  // which ends a session left behind by `client_id`.
  asio::awaitable<void> EndSession(std::string client_id);
  // PINGREQ -> PINGRESP round trip: everything the server sent before PINGRESP is kept.
  asio::awaitable<bool> Ping(Conn& c);

 private:
  asio::any_io_executor executor_;
  const Options& options_;
  const Capabilities& caps_;
  ProtocolVersion version_;
  std::string name_;
  std::string run_tag_;
  int index_;
  int ids_ = 0;
  bool failed_ = false;
  bool skipped_ = false;
  std::string message_;
};

// "0x8E Session taken over".
std::string CodeName(ReasonCode code);
std::string CodeName(uint8_t code);
std::string Hex(std::string_view bytes, size_t max = 48);
bool IsPacket(const Event& e, PacketType type);

template <typename P>
asio::awaitable<std::optional<client::OwnedPacket>> T::Expect(Conn& c, std::string_view what,
                                                              std::optional<Ms> timeout) {
  Event e = co_await c.Await([](const Event& ev) { return ev.get<P>() != nullptr; },
                             timeout.value_or(wait()));
  if (!e.is_packet()) {
    Fail("expected " + std::string(what) + ", got " + e.Describe());
    co_return std::nullopt;
  }
  co_return std::move(e.packet);
}

// ---- The registry of tests ----

using TestFn = std::function<asio::awaitable<void>(T&)>;

struct TestCase {
  std::string name;       // "MQTT_3_1_2_25_DropsOversizedPacket", "V311_MQTT_3_1_2_24_..."
  std::string statement;  // "MQTT-3.1.2-25"
  ProtocolVersion version;
  TestFn fn;
};

class Registry {
 public:
  // `statement` is "MQTT-x.y.z-n"; the name is derived from it and `what` (CamelCase).
  void Add(ProtocolVersion version, std::string statement, std::string what, TestFn fn);
  const std::vector<TestCase>& tests() const { return tests_; }

 private:
  std::vector<TestCase> tests_;
};

// Each test file registers its tests.
void RegisterConnectTests(Registry& r);
void RegisterSessionTests(Registry& r);
void RegisterPublishTests(Registry& r);
void RegisterSubscribeTests(Registry& r);
void RegisterFlowTests(Registry& r);
void RegisterErrorTests(Registry& r);
void RegisterAllTests(Registry& r);

}  // namespace simq::conformance

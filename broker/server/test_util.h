// Helpers for the broker's in-process integration tests.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "boost/asio/steady_timer.hpp"
#include "boost/asio/this_coro.hpp"
#include "boost/asio/use_awaitable.hpp"

#include "broker/client/client.h"
#include "broker/client/raw_connection.h"
#include "broker/core/broker.h"
#include "broker/core/stats.h"
#include "broker/protocol/packets.h"
#include "broker/testing/broker_fixture.h"

namespace simq::server {

using namespace std::chrono_literals;
using client::Client;
using client::ConnectOptions;
using client::Message;
using client::OwnedPacket;
using client::RawConnection;
using protocol::ProtocolVersion;
using protocol::QoS;
using protocol::ReasonCode;
namespace asio = boost::asio;

// GCC 12 cannot build initializer lists inside coroutines ("array used as initializer"), so
// tests make their lists and messages through these.
inline Message Msg(std::string topic, std::string payload, QoS qos = QoS::kAtMostOnce,
                   bool retain = false, protocol::Properties properties = {}) {
  Message m;
  m.topic = std::move(topic);
  m.payload = std::move(payload);
  m.qos = qos;
  m.retain = retain;
  m.properties = protocol::OwnedProperties(properties);
  return m;
}

inline std::vector<client::Subscription> Sub(std::string filter, QoS qos = QoS::kAtMostOnce) {
  client::Subscription s;
  s.filter = std::move(filter);
  s.options.max_qos = qos;
  return std::vector<client::Subscription>(1, s);
}

inline std::vector<client::Subscription> Sub(std::string filter, protocol::SubscriptionOptions o) {
  client::Subscription s;
  s.filter = std::move(filter);
  s.options = o;
  return std::vector<client::Subscription>(1, s);
}

inline std::vector<std::string> Filters(std::string f) {
  return std::vector<std::string>(1, f);
}

inline protocol::OwnedProperties ExpiryProps(uint32_t seconds) {
  protocol::Properties p;
  p.session_expiry_interval = seconds;
  return protocol::OwnedProperties(p);
}

// A CONNECT for raw connections.
inline protocol::ConnectPacket Connect(std::string_view client_id,
                                       ProtocolVersion version = ProtocolVersion::kMqtt5,
                                       bool clean_start = true, uint16_t keep_alive = 0) {
  protocol::ConnectPacket c;
  c.version = version;
  c.client_id = client_id;
  c.clean_start = clean_start;
  c.keep_alive = keep_alive;
  return c;
}

inline asio::awaitable<std::unique_ptr<RawConnection>> RawConnect(
    asio::any_io_executor ex, uint16_t port, ProtocolVersion version = ProtocolVersion::kMqtt5) {
  client::Endpoint e;
  e.port = port;
  auto c = co_await RawConnection::Connect(ex, e, version);
  EXPECT_TRUE(c.ok()) << c.status();
  co_return c.ok() ? std::move(*c) : nullptr;
}

// Sends CONNECT and returns the CONNACK (or fails the test).
inline asio::awaitable<std::optional<protocol::ConnackPacket>> Handshake(
    RawConnection& c, const protocol::ConnectPacket& connect, OwnedPacket* keep) {
  c.Send(connect);
  absl::StatusOr<OwnedPacket> p = co_await c.Receive(5s);
  EXPECT_TRUE(p.ok()) << p.status();
  if (!p.ok()) co_return std::nullopt;
  const auto* connack = p->get<protocol::ConnackPacket>();
  EXPECT_NE(connack, nullptr) << "expected CONNACK";
  if (connack == nullptr) co_return std::nullopt;
  protocol::ConnackPacket copy = *connack;
  *keep = std::move(*p);
  co_return copy;
}

// ASSERT_* cannot return from a coroutine: fail the test and co_return instead.
#define CO_ASSERT(cond)                            \
  do {                                             \
    if (!(cond)) {                                 \
      ADD_FAILURE() << "assertion failed: " #cond; \
      co_return;                                   \
    }                                              \
  } while (0)

// Test names for suites parameterised by protocol version: "Mqtt5", "Mqtt311".
inline std::string VersionName(const ::testing::TestParamInfo<ProtocolVersion>& info) {
  return info.param == ProtocolVersion::kMqtt5 ? "Mqtt5" : "Mqtt311";
}

// Messages the broker dropped for `reason` so far.
inline uint64_t Dropped(testing::BrokerFixture& broker, core::DropReason reason) {
  return broker.broker().Snapshot().dropped[static_cast<size_t>(reason)];
}

// Waits (polling) until `done` holds; false after `timeout`.
inline asio::awaitable<bool> WaitUntil(std::function<bool()> done,
                                       std::chrono::milliseconds timeout = 5s) {
  auto ex = co_await asio::this_coro::executor;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) co_return false;
    co_await asio::steady_timer(ex, 2ms).async_wait(asio::use_awaitable);
  }
  co_return true;
}

// Waits until the broker has processed connects and disconnects: `connected` clients left.
inline asio::awaitable<bool> WaitConnected(testing::BrokerFixture& broker, int64_t connected) {
  co_return co_await WaitUntil(
      [&broker, connected] { return broker.broker().Snapshot().clients_connected == connected; });
}

// A client id (prefix-N) whose session lives on `worker`: tests choose where publisher and
// subscriber run (the fixture has two workers).
inline std::string IdOnWorker(testing::BrokerFixture& broker, const std::string& prefix,
                              uint32_t worker) {
  for (int i = 0;; ++i) {
    std::string id = prefix + "-" + std::to_string(i);
    if (broker.broker().HomeWorker(id) == worker) return id;
  }
}

// A client identifier whose session lives on the same worker as `other`'s. Work on one worker
// happens in order: what this client publishes is routed to `other`'s session before its PUBACK
// is sent, and after anything that worker already did for `other` (a Will, a queued message).
inline std::string SameHomeAs(testing::BrokerFixture& broker, std::string_view other,
                              const std::string& prefix) {
  return IdOnWorker(broker, prefix, broker.broker().HomeWorker(other));
}

}  // namespace simq::server

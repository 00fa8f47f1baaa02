// Helpers shared by the conformance test files (not a public header).
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "fmt/format.h"

#include "broker/protocol/encoder.h"
#include "conformance/harness.h"

namespace simq::conformance {

using protocol::ConnackPacket;
using protocol::DisconnectPacket;
using protocol::Properties;
using protocol::PubackPacket;
using protocol::PubcompPacket;
using protocol::PublishPacket;
using protocol::PubrecPacket;
using protocol::PubrelPacket;
using protocol::RetainHandling;
using protocol::SubackPacket;
using protocol::UnsubackPacket;

inline constexpr QoS kQoS0 = QoS::kAtMostOnce;
inline constexpr QoS kQoS1 = QoS::kAtLeastOnce;
inline constexpr QoS kQoS2 = QoS::kExactlyOnce;

// Ill-formed UTF-8: an encoded UTF-16 surrogate (U+D800) and an overlong '/'.
inline std::string Surrogate() {
  return std::string("\xED\xA0\x80", 3);
}
inline std::string Overlong() {
  return std::string("\xC0\xAF", 2);
}

// A CONNECT built byte by byte: protocol name, level, connect flags, keep alive, properties
// (MQTT 5 only; empty block unless given) and the payload fields as given.
inline std::string RawConnect(std::string_view protocol_name, uint8_t level, uint8_t flags,
                              const RawPacket& payload, const RawPacket* props = nullptr,
                              bool with_props = true) {
  RawPacket p;
  p.Str(protocol_name).U8(level).U8(flags).U16(0);
  if (with_props) {
    RawPacket empty;
    p.Props(props != nullptr ? *props : empty);
  }
  p.Bytes(payload.body());
  return p.Build(0x10);
}

// The same for this test's protocol version ("MQTT" 5 or "MQTT" 4).
inline std::string RawConnectFor(ProtocolVersion v, uint8_t flags, const RawPacket& payload,
                                 const RawPacket* props = nullptr) {
  return RawConnect("MQTT", static_cast<uint8_t>(v), flags, payload, props, v == kV5);
}

inline RawPacket Payload(std::string_view client_id) {
  RawPacket p;
  p.Str(client_id);
  return p;
}

// The Reason Codes each packet may carry (MQTT 5 §2.4, tables 3-1 ... 3-11).
inline const std::vector<uint8_t>& ConnackCodes() {
  static const std::vector<uint8_t> codes = {0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86,
                                             0x87, 0x88, 0x89, 0x8A, 0x8C, 0x90, 0x95, 0x97,
                                             0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F};
  return codes;
}
inline const std::vector<uint8_t>& PubackCodes() {
  static const std::vector<uint8_t> codes = {0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99};
  return codes;
}
inline const std::vector<uint8_t>& PubrelCodes() {
  static const std::vector<uint8_t> codes = {0x00, 0x92};
  return codes;
}
inline const std::vector<uint8_t>& SubackCodes() {
  static const std::vector<uint8_t> codes = {0x00, 0x01, 0x02, 0x80, 0x83, 0x87,
                                             0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2};
  return codes;
}
inline const std::vector<uint8_t>& UnsubackCodes() {
  static const std::vector<uint8_t> codes = {0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91};
  return codes;
}
inline const std::vector<uint8_t>& DisconnectCodes() {
  static const std::vector<uint8_t> codes = {
      0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D, 0x8E, 0x8F, 0x90, 0x93, 0x94,
      0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2};
  return codes;
}
inline bool In(const std::vector<uint8_t>& set, ReasonCode code) {
  return std::find(set.begin(), set.end(), static_cast<uint8_t>(code)) != set.end();
}

// The Connect Return Code byte of a CONNACK as received (3.1.1: byte 4; MQTT 5: byte 4 too).
inline uint8_t ConnackCodeByte(const Event& e) {
  return e.raw.size() >= 4 ? static_cast<uint8_t>(e.raw[3]) : 0xFF;
}
inline bool IsConnackRaw(const Event& e) {
  return !e.raw.empty() && static_cast<uint8_t>(e.raw[0]) == 0x20;
}

// A Conn's CONNACK properties.
inline const Properties& Props(const Conn& c) {
  return c.connack.properties;
}

inline std::string Repeat(char ch, size_t n) {
  return std::string(n, ch);
}

// "[a=1, b=2]"
inline std::string FormatPairs(const std::vector<protocol::StringPair>& pairs) {
  std::string s = "[";
  for (size_t i = 0; i < pairs.size(); ++i) {
    s += fmt::format("{}{}={}", i ? ", " : "", pairs[i].name, pairs[i].value);
  }
  return s + "]";
}

}  // namespace simq::conformance

namespace simq::conformance {

#define SIMQ_FAIL_IF(cond, ...)       \
  if (cond) {                         \
    t.Fail(fmt::format(__VA_ARGS__)); \
    co_return;                        \
  }

// The server must refuse the CONNECT just sent on `c`: close the connection, having sent at
// most a CONNACK with a refusal code and nothing else. MQTT 5: the code is 0x80 or above and,
// if `allowed` is not empty, one of `allowed`. MQTT 3.1.1: a non-zero return code, or no
// CONNACK at all when `no_connack`.
inline asio::awaitable<bool> ExpectRefused(T& t, Conn& c, std::string why,
                                           std::vector<uint8_t> allowed = {},
                                           bool no_connack = false) {
  std::vector<Event> got;
  const bool closed = co_await c.WaitClosed(t.wait(), &got);
  for (const Event& e : got) {
    if (IsConnackRaw(e)) {
      const uint8_t code = ConnackCodeByte(e);
      if (no_connack) {
        co_return t.Fail(why + ": expected the connection closed without a CONNACK, got CONNACK " +
                         Hex(e.raw));
      }
      if (code == 0) co_return t.Fail(why + ": the server accepted it: CONNACK " + Hex(e.raw));
      if (c.v5() && code < 0x80) {
        co_return t.Fail(why + ": CONNACK with the non-error code " + CodeName(code) + " (bytes " +
                         Hex(e.raw) + ")");
      }
      if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), code) == allowed.end()) {
        std::string list;
        for (uint8_t a : allowed) list += (list.empty() ? "" : " or ") + CodeName(a);
        co_return t.Fail(why + ": CONNACK " + CodeName(code) + ", expected " + list);
      }
      continue;
    }
    co_return t.Fail(why + ": the server sent " + e.Describe() + " (bytes " + Hex(e.raw) +
                     ") instead of only refusing the CONNECT");
  }
  if (!closed) {
    co_return t.Fail(
        fmt::format("{}: the connection is still open after {} ms", why, t.wait().count()));
  }
  co_return true;
}

// Sends DISCONNECT (normal) on `c`, waits until the server has closed the connection (so the
// session is offline before the test goes on) and drops `c`. Fails the test if it stays open.
inline asio::awaitable<bool> DisconnectAndWait(T& t, std::unique_ptr<Conn>& c) {
  c->Send(DisconnectPacket{});
  std::vector<Event> ignored;
  const bool closed = co_await c->WaitClosed(t.wait(), &ignored);
  c.reset();
  if (!closed) co_return t.Fail("the server kept the connection open after DISCONNECT");
  co_return true;
}

// Sends `connect` (raw bytes) on a fresh connection and expects it refused (ExpectRefused).
inline asio::awaitable<bool> SendAndExpectRefused(T& t, std::string connect, std::string why,
                                                  std::vector<uint8_t> allowed = {},
                                                  bool no_connack = false) {
  std::unique_ptr<Conn> c = co_await t.Open();
  if (!c) co_return false;
  c->SendRaw(connect);
  co_return co_await ExpectRefused(t, *c, std::move(why), std::move(allowed), no_connack);
}

}  // namespace simq::conformance

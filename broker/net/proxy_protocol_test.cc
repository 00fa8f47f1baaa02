#include "broker/net/proxy_protocol.h"

#include <string>
#include <string_view>
#include <thread>

#include "boost/asio/co_spawn.hpp"
#include "boost/asio/connect.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/read.hpp"
#include "boost/asio/write.hpp"
#include "gtest/gtest.h"

namespace simq::net {
namespace {

using boost::asio::ip::tcp;

// A version 2 header: signature, version/command, family/protocol, length, body.
std::string V2(uint8_t command, uint8_t family, std::string_view body) {
  std::string h("\r\n\r\n\0\r\nQUIT\n", 12);
  h.push_back(static_cast<char>(0x20 | command));
  h.push_back(static_cast<char>(family));
  h.push_back(static_cast<char>(body.size() >> 8));
  h.push_back(static_cast<char>(body.size() & 0xff));
  h.append(body);
  return h;
}

// 203.0.113.7:51000 → 198.51.100.1:1883.
std::string V2Ipv4Body() {
  return std::string("\xcb\x00\x71\x07\xc6\x33\x64\x01\xc7\x38\x07\x5b", 12);
}

ProxyHeader Complete(std::string_view data) {
  absl::StatusOr<std::optional<ProxyHeader>> h = ParseProxyHeader(data);
  EXPECT_TRUE(h.ok()) << h.status();
  if (!h.ok() || !h->has_value()) {
    ADD_FAILURE() << "incomplete: " << data;
    return {};
  }
  return **h;
}

bool Incomplete(std::string_view data) {
  absl::StatusOr<std::optional<ProxyHeader>> h = ParseProxyHeader(data);
  return h.ok() && !h->has_value();
}

bool Refused(std::string_view data) {
  return !ParseProxyHeader(data).ok();
}

TEST(ProxyProtocolV1Test, Tcp4AndTcp6) {
  const std::string line = "PROXY TCP4 203.0.113.7 198.51.100.1 51000 1883\r\n";
  ProxyHeader h = Complete(line + "\x10\x0c");  // MQTT bytes after it are not part of it
  EXPECT_EQ(h.size, line.size());
  ASSERT_TRUE(h.source.has_value());
  EXPECT_EQ(h.source->address().to_string(), "203.0.113.7");
  EXPECT_EQ(h.source->port(), 51000);

  h = Complete("PROXY TCP6 2001:db8::7 2001:db8::1 65535 8883\r\n");
  ASSERT_TRUE(h.source.has_value());
  EXPECT_EQ(h.source->address().to_string(), "2001:db8::7");
  EXPECT_EQ(h.source->port(), 65535);
}

TEST(ProxyProtocolV1Test, UnknownKeepsTheSocketAddress) {
  ProxyHeader h = Complete("PROXY UNKNOWN\r\n");
  EXPECT_EQ(h.size, 15u);
  EXPECT_FALSE(h.source.has_value());
  h = Complete("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n");
  EXPECT_FALSE(h.source.has_value());
}

TEST(ProxyProtocolV1Test, IncompleteUntilTheLineEnds) {
  const std::string line = "PROXY TCP4 203.0.113.7 198.51.100.1 51000 1883\r\n";
  for (size_t n = 0; n < line.size(); ++n) {
    EXPECT_TRUE(Incomplete(line.substr(0, n))) << n;
  }
}

TEST(ProxyProtocolV1Test, MalformedLinesAreRefused) {
  EXPECT_TRUE(Refused("PROXY TCP4 203.0.113.7 198.51.100.1 51000\r\n"));       // a port short
  EXPECT_TRUE(Refused("PROXY UDP4 203.0.113.7 198.51.100.1 51000 1883\r\n"));  // not TCP
  EXPECT_TRUE(Refused("PROXY TCP4 203.0.113.777 198.51.100.1 51000 1883\r\n"));
  EXPECT_TRUE(Refused("PROXY TCP4 2001:db8::7 198.51.100.1 51000 1883\r\n"));  // wrong family
  EXPECT_TRUE(Refused("PROXY TCP6 203.0.113.7 2001:db8::1 51000 1883\r\n"));
  EXPECT_TRUE(Refused("PROXY TCP4 203.0.113.7 198.51.100.1 65536 1883\r\n"));   // port range
  EXPECT_TRUE(Refused("PROXY TCP4 203.0.113.7 198.51.100.1 051000 1883\r\n"));  // leading 0
  EXPECT_TRUE(Refused("PROXY TCP4 203.0.113.7 198.51.100.1 -1 1883\r\n"));
  EXPECT_TRUE(Refused("PROXY TCP4  203.0.113.7 198.51.100.1 51000 1883\r\n"));  // two spaces
  // Longer than the 107 bytes v1 allows, with or without an end.
  EXPECT_TRUE(Refused("PROXY TCP4 " + std::string(120, '1')));
  EXPECT_TRUE(Refused("PROXY UNKNOWN " + std::string(100, 'x') + "\r\n"));
}

TEST(ProxyProtocolTest, OtherBytesAreNotAHeader) {
  // An MQTT CONNECT straight away, as a client that bypasses the load balancer sends.
  EXPECT_TRUE(Refused(std::string("\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c", 12)));
  EXPECT_TRUE(Refused("GET /mqtt HTTP/1.1\r\n"));
  EXPECT_TRUE(Refused("PROXX TCP4"));
  // A prefix of either signature is not decided yet.
  EXPECT_TRUE(Incomplete(""));
  EXPECT_TRUE(Incomplete("PRO"));
  EXPECT_TRUE(Incomplete(std::string("\r\n\r\n\0\r", 6)));
}

TEST(ProxyProtocolV2Test, Ipv4) {
  const std::string header = V2(0x1, 0x11, V2Ipv4Body());
  ProxyHeader h = Complete(header + "\x10");
  EXPECT_EQ(h.size, header.size());
  ASSERT_TRUE(h.source.has_value());
  EXPECT_EQ(h.source->address().to_string(), "203.0.113.7");
  EXPECT_EQ(h.source->port(), 51000);
}

TEST(ProxyProtocolV2Test, Ipv6AndTlvsAreSkipped) {
  std::string body(36, '\0');
  body[0] = '\x20';
  body[1] = '\x01';
  body[2] = '\x0d';
  body[3] = '\xb8';
  body[15] = '\x07';  // 2001:db8::7
  body[32] = '\x04';
  body[33] = '\xd2';  // port 1234
  // A TLV (PP2_TYPE_AUTHORITY "broker.example") after the addresses.
  body += std::string("\x02\x00\x0e", 3) + "broker.example";
  const std::string header = V2(0x1, 0x21, body);
  ProxyHeader h = Complete(header);
  EXPECT_EQ(h.size, header.size());
  ASSERT_TRUE(h.source.has_value());
  EXPECT_EQ(h.source->address().to_string(), "2001:db8::7");
  EXPECT_EQ(h.source->port(), 1234);
}

TEST(ProxyProtocolV2Test, LocalAndUnspecifiedKeepTheSocketAddress) {
  ProxyHeader h = Complete(V2(0x0, 0x11, V2Ipv4Body()));  // LOCAL: a health check
  EXPECT_FALSE(h.source.has_value());
  h = Complete(V2(0x1, 0x00, ""));  // UNSPEC
  EXPECT_FALSE(h.source.has_value());
  h = Complete(V2(0x1, 0x31, std::string(216, 'u')));  // AF_UNIX
  EXPECT_FALSE(h.source.has_value());
}

TEST(ProxyProtocolV2Test, IncompleteUntilTheWholeBody) {
  const std::string header = V2(0x1, 0x11, V2Ipv4Body());
  for (size_t n = 0; n < header.size(); ++n) {
    EXPECT_TRUE(Incomplete(header.substr(0, n))) << n;
  }
}

TEST(ProxyProtocolV2Test, MalformedHeadersAreRefused) {
  std::string bad_version = V2(0x1, 0x11, V2Ipv4Body());
  bad_version[12] = '\x11';
  EXPECT_TRUE(Refused(bad_version));
  EXPECT_TRUE(Refused(V2(0x2, 0x11, V2Ipv4Body())));               // unknown command
  EXPECT_TRUE(Refused(V2(0x1, 0x11, V2Ipv4Body().substr(0, 8))));  // addresses cut short
  EXPECT_TRUE(Refused(V2(0x1, 0x21, std::string(20, '\0'))));
  // Longer than kMaxProxyHeader: refused from the 16-byte header alone.
  std::string huge = V2(0x1, 0x11, "");
  huge[14] = '\xff';
  huge[15] = '\xff';
  EXPECT_TRUE(Refused(huge));
}

// ReadProxyHeader over a real loopback socket: it takes the header and leaves the MQTT bytes
// that follow it on the socket, also when the header arrives in pieces.
TEST(ReadProxyHeaderTest, TakesExactlyTheHeader) {
  boost::asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  tcp::socket client(io);
  client.connect(acceptor.local_endpoint());
  tcp::socket server = acceptor.accept();

  const std::string header = "PROXY TCP4 203.0.113.7 198.51.100.1 51000 1883\r\n";
  boost::asio::write(client, boost::asio::buffer(header.substr(0, 20)));

  absl::StatusOr<std::optional<tcp::endpoint>> result = absl::UnknownError("not run");
  bool done = false;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        result = co_await ReadProxyHeader(server);
        done = true;
      },
      boost::asio::detached);
  // Let the reader see the first piece and wait for more.
  io.poll();
  EXPECT_FALSE(done);
  boost::asio::write(client, boost::asio::buffer(header.substr(20) + "MQTT"));
  while (!done) io.run_one();

  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_TRUE(result->has_value());
  EXPECT_EQ((*result)->address().to_string(), "203.0.113.7");
  EXPECT_EQ((*result)->port(), 51000);
  server.non_blocking(false);
  std::string rest(4, '\0');
  boost::asio::read(server, boost::asio::buffer(rest));
  EXPECT_EQ(rest, "MQTT");
}

TEST(ReadProxyHeaderTest, RefusesAConnectionWithoutOne) {
  boost::asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  tcp::socket client(io);
  client.connect(acceptor.local_endpoint());
  tcp::socket server = acceptor.accept();
  boost::asio::write(client, boost::asio::buffer(std::string("\x10\x0c\x00\x04MQTT", 8)));

  absl::StatusOr<std::optional<tcp::endpoint>> result = absl::UnknownError("not run");
  boost::asio::co_spawn(
      io, [&]() -> boost::asio::awaitable<void> { result = co_await ReadProxyHeader(server); },
      boost::asio::detached);
  io.run();
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument) << result.status();
}

TEST(ReadProxyHeaderTest, ClosedBeforeTheEnd) {
  boost::asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  tcp::socket client(io);
  client.connect(acceptor.local_endpoint());
  tcp::socket server = acceptor.accept();
  boost::asio::write(client, boost::asio::buffer(std::string("PROXY TCP4 203.0")));
  client.close();

  absl::StatusOr<std::optional<tcp::endpoint>> result = absl::UnknownError("not run");
  boost::asio::co_spawn(
      io, [&]() -> boost::asio::awaitable<void> { result = co_await ReadProxyHeader(server); },
      boost::asio::detached);
  io.run();
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable) << result.status();
}

}  // namespace
}  // namespace simq::net

#include "broker/net/proxy_protocol.h"

#include <array>
#include <charconv>
#include <cstring>
#include <vector>

#include <arpa/inet.h>

#include "boost/asio/as_tuple.hpp"
#include "boost/asio/read.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "fmt/format.h"

namespace simq::net {
namespace {

constexpr std::string_view kV1Signature = "PROXY ";
constexpr std::string_view kV2Signature("\r\n\r\n\0\r\nQUIT\n", 12);
constexpr size_t kV1MaxLength = 107;
constexpr size_t kV2HeaderLength = 16;

absl::Status NotProxy(std::string_view why) {
  return absl::InvalidArgumentError(fmt::format("bad PROXY protocol header: {}", why));
}

std::vector<std::string_view> Words(std::string_view line) {
  std::vector<std::string_view> words;
  for (size_t start = 0; start <= line.size();) {
    size_t end = line.find(' ', start);
    if (end == std::string_view::npos) end = line.size();
    words.push_back(line.substr(start, end - start));
    start = end + 1;
  }
  return words;
}

std::optional<uint16_t> Port(std::string_view text) {
  uint32_t port = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || port > 65535 ||
      (text.size() > 1 && text[0] == '0')) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(port);
}

absl::StatusOr<std::optional<ProxyHeader>> ParseV1(std::string_view data) {
  const size_t end = data.find("\r\n");
  if (end == std::string_view::npos) {
    if (data.size() >= kV1MaxLength) return NotProxy("v1 line too long");
    return std::nullopt;
  }
  if (end + 2 > kV1MaxLength) return NotProxy("v1 line too long");
  const std::vector<std::string_view> words = Words(data.substr(0, end));
  ProxyHeader header;
  header.size = end + 2;
  if (words.size() >= 2 && words[1] == "UNKNOWN") return header;
  if (words.size() != 6 || (words[1] != "TCP4" && words[1] != "TCP6")) {
    return NotProxy("v1 expects PROXY TCP4|TCP6 <src> <dst> <sport> <dport>");
  }
  const int family = words[1] == "TCP4" ? AF_INET : AF_INET6;
  unsigned char bytes[16];
  const std::string source(words[2]);
  const std::string destination(words[3]);
  if (inet_pton(family, source.c_str(), bytes) != 1 ||
      inet_pton(family, destination.c_str(), bytes) != 1) {
    return NotProxy("v1 address");
  }
  std::optional<uint16_t> source_port = Port(words[4]);
  if (!source_port || !Port(words[5])) return NotProxy("v1 port");
  boost::system::error_code ec;
  header.source.emplace(boost::asio::ip::make_address(source, ec), *source_port);
  return header;
}

absl::StatusOr<std::optional<ProxyHeader>> ParseV2(std::string_view data) {
  if (data.size() < kV2HeaderLength) return std::nullopt;
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(data[i]); };
  if ((byte(12) >> 4) != 2) return NotProxy("v2 version");
  const uint8_t command = byte(12) & 0x0f;
  const size_t length = (size_t{byte(14)} << 8) | byte(15);
  if (kV2HeaderLength + length > kMaxProxyHeader) return NotProxy("v2 header too long");
  if (data.size() < kV2HeaderLength + length) return std::nullopt;
  ProxyHeader header;
  header.size = kV2HeaderLength + length;
  if (command == 0x0) return header;  // LOCAL: the balancer's own health check
  if (command != 0x1) return NotProxy("v2 command");
  const std::string_view body = data.substr(kV2HeaderLength, length);
  namespace ip = boost::asio::ip;
  switch (byte(13)) {
    case 0x11: {  // TCP over IPv4: src, dst, sport, dport
      if (body.size() < 12) return NotProxy("v2 IPv4 addresses truncated");
      ip::address_v4::bytes_type address;
      std::memcpy(address.data(), body.data(), address.size());
      const uint16_t port = static_cast<uint16_t>((uint8_t(body[8]) << 8) | uint8_t(body[9]));
      header.source.emplace(ip::address_v4(address), port);
      return header;
    }
    case 0x21: {  // TCP over IPv6
      if (body.size() < 36) return NotProxy("v2 IPv6 addresses truncated");
      ip::address_v6::bytes_type address;
      std::memcpy(address.data(), body.data(), address.size());
      const uint16_t port = static_cast<uint16_t>((uint8_t(body[32]) << 8) | uint8_t(body[33]));
      header.source.emplace(ip::address_v6(address), port);
      return header;
    }
    default: return header;  // UNSPEC, UDP or UNIX sockets: no usable client address
  }
}

}  // namespace

absl::StatusOr<std::optional<ProxyHeader>> ParseProxyHeader(std::string_view data) {
  const size_t v1 = std::min(data.size(), kV1Signature.size());
  if (data.substr(0, v1) == kV1Signature.substr(0, v1)) {
    return v1 < kV1Signature.size() ? std::nullopt : ParseV1(data);
  }
  const size_t v2 = std::min(data.size(), kV2Signature.size());
  if (data.substr(0, v2) == kV2Signature.substr(0, v2)) return ParseV2(data);
  return NotProxy("the connection does not start with one");
}

boost::asio::awaitable<absl::StatusOr<std::optional<boost::asio::ip::tcp::endpoint>>>
ReadProxyHeader(boost::asio::ip::tcp::socket& socket) {
  namespace asio = boost::asio;
  constexpr auto kUse = asio::as_tuple(asio::use_awaitable);
  std::string header;  // bytes taken off the socket: all of them belong to the header
  std::array<char, kMaxProxyHeader> peeked;
  boost::system::error_code ec;
  socket.non_blocking(true, ec);
  while (true) {
    auto [wait_error] = co_await socket.async_wait(asio::ip::tcp::socket::wait_read, kUse);
    if (wait_error) co_return absl::UnavailableError(wait_error.message());
    const size_t n = socket.receive(asio::buffer(peeked.data(), kMaxProxyHeader - header.size()),
                                    asio::socket_base::message_peek, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) continue;
    if (ec || n == 0) co_return absl::UnavailableError("closed before the PROXY header");
    const std::string candidate = header + std::string(peeked.data(), n);
    absl::StatusOr<std::optional<ProxyHeader>> parsed = ParseProxyHeader(candidate);
    if (!parsed.ok()) co_return parsed.status();
    // Take exactly the header, or everything peeked when it goes on beyond.
    const size_t take = parsed->has_value() ? (*parsed)->size - header.size() : n;
    const size_t read = asio::read(socket, asio::buffer(peeked.data(), take), ec);
    if (ec || read != take) co_return absl::UnavailableError("closed inside the PROXY header");
    header.append(peeked.data(), take);
    if (parsed->has_value()) co_return (*parsed)->source;
    if (header.size() >= kMaxProxyHeader) co_return NotProxy("too long");
  }
}

}  // namespace simq::net

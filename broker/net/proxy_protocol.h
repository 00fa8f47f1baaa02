// The PROXY protocol (HAProxy, versions 1 and 2): the header a load balancer sends before the
// client's bytes, naming the client's real address (listener option proxy_protocol).
//
//   absl::StatusOr<std::optional<ProxyHeader>> h = ParseProxyHeader(bytes_so_far);
//   !h.ok()          → not a PROXY header: close the connection
//   !h->has_value()  → incomplete: read more
//   (*h)->size bytes are the header; (*h)->source is the client's address, or nullopt for a
//   LOCAL (v2) or UNKNOWN (v1) connection, which keeps the socket's own peer address.
//
// Version 1 is the text line "PROXY TCP4 <src> <dst> <sport> <dport>\r\n" (at most 107 bytes);
// version 2 the binary form with a 16-byte header; its TLVs are skipped. Pure function.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "boost/asio/awaitable.hpp"
#include "boost/asio/ip/tcp.hpp"

namespace simq::net {

// Longest header accepted (v2 allows 64 KiB of TLVs; real load balancers send a few dozen).
inline constexpr size_t kMaxProxyHeader = 2048;

struct ProxyHeader {
  size_t size = 0;
  std::optional<boost::asio::ip::tcp::endpoint> source;
};

absl::StatusOr<std::optional<ProxyHeader>> ParseProxyHeader(std::string_view data);

// Reads exactly the PROXY header from `socket` (peeking, so that no byte after it is taken)
// and returns its source address (nullopt: keep the socket's). The caller bounds the time.
boost::asio::awaitable<absl::StatusOr<std::optional<boost::asio::ip::tcp::endpoint>>>
ReadProxyHeader(boost::asio::ip::tcp::socket& socket);

}  // namespace simq::net

// The byte stream under an MQTT client connection, behind an interface so that TCP, TLS and
// WebSocket transports plug into the same client.
//
//   absl::StatusOr<std::unique_ptr<Transport>> t =
//       co_await ConnectTransport(executor, Endpoint{"127.0.0.1", 1883}, std::chrono::seconds(5));
//
// A Transport is used from one executor (its owner's) and is not thread-safe. Reads and writes
// may be outstanding at the same time, but at most one of each.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "boost/asio/any_io_executor.hpp"
#include "boost/asio/awaitable.hpp"
#include "boost/asio/buffer.hpp"
#include "boost/system/error_code.hpp"

namespace simq::client {

namespace asio = boost::asio;

class Transport {
 public:
  virtual ~Transport() = default;

  // Reads at least one byte into `buffer`. An error of eof means the peer closed cleanly.
  virtual asio::awaitable<std::pair<boost::system::error_code, size_t>> ReadSome(
      asio::mutable_buffer buffer) = 0;
  // Writes every byte of every buffer, in order.
  virtual asio::awaitable<boost::system::error_code> WriteAll(
      std::span<const asio::const_buffer> buffers) = 0;
  // Closes at once, without a graceful shutdown: outstanding operations complete with errors.
  // Tests use this to simulate a dropped network connection.
  virtual void Close() = 0;
  virtual bool is_open() const = 0;
  virtual asio::any_io_executor executor() const = 0;
};

// Where to connect. Later transports (TLS, WebSocket) add their options here.
struct Endpoint {
  std::string host = "127.0.0.1";
  uint16_t port = 1883;
};

// Resolves and connects over TCP with TCP_NODELAY. Fails with DeadlineExceeded after `timeout`
// and Unavailable when the connection is refused.
asio::awaitable<absl::StatusOr<std::unique_ptr<Transport>>> ConnectTransport(
    asio::any_io_executor executor, Endpoint endpoint, std::chrono::milliseconds timeout);

}  // namespace simq::client

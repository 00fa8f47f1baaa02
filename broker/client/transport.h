// The byte stream under an MQTT client connection, behind an interface so that TCP, TLS,
// WebSocket and WebSocket-over-TLS transports plug into the same client.
//
//   Endpoint e;
//   e.scheme = Scheme::kWss;           // or kTcp, kTls, kWs
//   e.port = 8084;
//   e.tls.ca_file = "ca.pem";          // trust anchors; client certificate in cert_file/key_file
//   absl::StatusOr<std::unique_ptr<Transport>> t =
//       co_await ConnectTransport(executor, e, std::chrono::seconds(5));
//
// TLS verifies the server's certificate chain and its name (tls.server_name, else host; an IP
// address is checked against the certificate's IP SANs) unless tls.verify is false.
// WebSocket sends one binary message per write, offers subprotocol ws_subprotocol ("mqtt")
// and fails unless the server selects it (MQTT §6).
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

enum class Scheme { kTcp, kTls, kWs, kWss };

struct TlsOptions {
  std::string ca_file;      // PEM trust anchors; empty: the system's default CAs
  std::string cert_file;    // PEM client certificate chain (mTLS), optional
  std::string key_file;     // its private key
  std::string server_name;  // SNI and the name checked; empty: the endpoint's host
  bool verify = true;
};

// Where to connect.
struct Endpoint {
  std::string host = "127.0.0.1";
  uint16_t port = 1883;
  Scheme scheme = Scheme::kTcp;
  TlsOptions tls;                       // kTls, kWss
  std::string ws_path = "/mqtt";        // kWs, kWss
  std::string ws_subprotocol = "mqtt";  // kWs, kWss (tests offer others)
};

// Resolves and connects over TCP with TCP_NODELAY, then runs the TLS and WebSocket handshakes
// the scheme needs. Fails with DeadlineExceeded after `timeout` (all of it), Unavailable when
// the connection is refused, and PermissionDenied/FailedPrecondition when a handshake fails
// (an untrusted certificate, a refused client certificate, a declined WebSocket upgrade).
asio::awaitable<absl::StatusOr<std::unique_ptr<Transport>>> ConnectTransport(
    asio::any_io_executor executor, Endpoint endpoint, std::chrono::milliseconds timeout);

}  // namespace simq::client

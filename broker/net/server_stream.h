// The byte stream under a TLS, WebSocket or WSS client connection, server side: the handshake
// (TLS, then the WebSocket upgrade), then MQTT bytes in both directions.
//
//   std::unique_ptr<ServerStream> s = MakeServerStream(std::move(socket), options);
//   co_await s->Handshake();   // error: refuse the connection
//   co_await s->ReadSome(buffer); co_await s->Write(bytes); co_await s->Shutdown();
//
// WebSocket per MQTT §6: binary frames only (a text frame ends the connection,
// [MQTT-6.0.0-1]); one MQTT packet may span frames and one frame may hold several packets
// (the bytes are a plain stream to the framing above); subprotocol "mqtt" (websocket_upgrade.h).
// Each Write is one binary message.
//
// Owner and thread: a StreamConnection, on its worker. At most one read and one write (or the
// shutdown) outstanding at a time.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "boost/asio/awaitable.hpp"
#include "boost/asio/buffer.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/ssl/context.hpp"
#include "boost/system/error_code.hpp"

#include "broker/config/config.h"

namespace simq::net {

namespace asio = boost::asio;

struct StreamOptions {
  config::ListenerType type = config::ListenerType::kTls;
  std::shared_ptr<asio::ssl::context> tls;  // tls and wss
  config::CertificateIdentity identity = config::CertificateIdentity::kNone;
  std::string ws_path = "/mqtt";
  std::chrono::milliseconds handshake_timeout{10'000};
};

class ServerStream {
 public:
  virtual ~ServerStream() = default;

  // TLS handshake and/or WebSocket upgrade. Not bounded in time: the caller closes on timeout.
  virtual asio::awaitable<boost::system::error_code> Handshake() = 0;
  virtual asio::awaitable<std::pair<boost::system::error_code, size_t>> ReadSome(
      asio::mutable_buffer buffer) = 0;
  virtual asio::awaitable<boost::system::error_code> Write(asio::const_buffer bytes) = 0;
  // The graceful end: WebSocket close frame, TLS close_notify. Bounded by the caller. Unless
  // shutdown_while_reading(), no read may be outstanding: CancelRead() first and wait for it.
  virtual asio::awaitable<void> Shutdown() = 0;
  virtual bool shutdown_while_reading() const = 0;
  virtual void CancelRead() = 0;
  // Closes the socket at once; outstanding operations fail.
  virtual void Close() = 0;
  // After the handshake: the user name the client certificate gives (StreamOptions::identity).
  virtual std::optional<std::string> certificate_username() const { return std::nullopt; }
};

std::unique_ptr<ServerStream> MakeServerStream(asio::ip::tcp::socket socket, StreamOptions options);

}  // namespace simq::net

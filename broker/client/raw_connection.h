// A packet-level MQTT connection with no client logic: send any packet or any bytes, receive
// exactly what the server sends. For conformance tests and tests that must see the wire.
//
//   auto c = co_await RawConnection::Connect(ex, endpoint, ProtocolVersion::kMqtt5);
//   (*c)->SendRaw(std::string("\x10\x00", 2));              // malformed CONNECT
//   absl::StatusOr<OwnedPacket> p = co_await (*c)->Receive(2s);
//   bool closed = co_await (*c)->WaitClosed(2s);
//
// Thread: one executor; not thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "boost/asio/awaitable.hpp"

#include "broker/client/packet_stream.h"
#include "broker/client/transport.h"

namespace simq::client {

class RawConnection {
 public:
  static asio::awaitable<absl::StatusOr<std::unique_ptr<RawConnection>>> Connect(
      asio::any_io_executor executor, Endpoint endpoint, protocol::ProtocolVersion version,
      std::chrono::milliseconds timeout = std::chrono::seconds(5));

  explicit RawConnection(std::shared_ptr<PacketStream> stream) : stream_(std::move(stream)) {}

  void Send(const protocol::Packet& packet) { stream_->Send(packet); }
  void SendRaw(std::string_view bytes) { stream_->SendRaw(bytes); }
  void set_version(protocol::ProtocolVersion v) { stream_->set_version(v); }

  // The next packet; DeadlineExceeded if none within `timeout`; Unavailable once closed.
  // A packet that does not decode is an error carrying its reason code.
  asio::awaitable<absl::StatusOr<OwnedPacket>> Receive(std::chrono::milliseconds timeout);
  // True if the server closed the connection within `timeout`; packets received meanwhile are
  // discarded.
  asio::awaitable<bool> WaitClosed(std::chrono::milliseconds timeout);
  void Close() { stream_->Close(); }

 private:
  std::shared_ptr<PacketStream> stream_;
  bool closed_ = false;
};

}  // namespace simq::client

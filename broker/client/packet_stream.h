// MQTT framing over a Transport: an ordered write queue of encoded packets, and a receive
// buffer that yields whole frames without copying.
//
//   auto stream = PacketStream::Create(std::move(transport));
//   stream->Send(protocol::PingreqPacket{});
//   while (true) {
//     while (std::optional<protocol::Frame> f = stream->TryNextFrame(&status)) Handle(*f);
//     if (!status.ok()) break;
//     if (absl::Status s = co_await stream->ReadMore(); !s.ok()) break;
//   }
//
// Owner and thread: one executor; not thread-safe. Lifetime: shared, because the writer
// coroutine holds a reference while a write is in flight.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "boost/asio/awaitable.hpp"

#include "broker/base/event.h"
#include "broker/client/transport.h"
#include "broker/protocol/decoder.h"
#include "broker/protocol/packets.h"

namespace simq::client {

// A decoded packet together with the bytes its views point into. Movable; views stay valid.
class OwnedPacket {
 public:
  // An empty packet (a PINGREQ with no bytes), to be assigned to.
  OwnedPacket() = default;
  // Copies the frame's bytes and decodes them for `version`.
  static absl::StatusOr<OwnedPacket> Decode(const protocol::Frame& frame,
                                            protocol::ProtocolVersion version);

  const protocol::Packet& packet() const { return packet_; }
  protocol::PacketType type() const { return protocol::TypeOf(packet_); }
  template <typename T>
  const T* get() const {
    return std::get_if<T>(&packet_);
  }
  // The whole packet as received, fixed header included.
  std::string_view bytes() const { return std::string_view(storage_.get(), size_); }

 private:
  std::unique_ptr<char[]> storage_;
  size_t size_ = 0;
  protocol::Packet packet_ = protocol::PingreqPacket{};
};

class PacketStream : public std::enable_shared_from_this<PacketStream> {
 public:
  static std::shared_ptr<PacketStream> Create(std::unique_ptr<Transport> transport);
  ~PacketStream();

  PacketStream(const PacketStream&) = delete;
  PacketStream& operator=(const PacketStream&) = delete;

  // The version packets are encoded and decoded with (CONNECT carries its own).
  void set_version(protocol::ProtocolVersion version) { version_ = version; }
  protocol::ProtocolVersion version() const { return version_; }
  // Incoming packets larger than this fail with 0x95 before they are buffered.
  void set_max_incoming_packet_size(uint32_t bytes) { max_incoming_ = bytes; }

  // Encodes `packet` into the write queue; writes happen in call order. Returns at once.
  void Send(const protocol::Packet& packet);
  // Queues bytes as they are: for tests that need malformed or hand-made packets.
  void SendRaw(std::string_view bytes);
  // Appends to the write queue through the caller's own encoder (e.g. protocol::Encode).
  std::string* MutableWriteQueue() { return &pending_; }
  void StartWriting();
  // Completes once every byte queued before the call is written, or the stream failed.
  asio::awaitable<absl::Status> Flush();
  size_t queued_bytes() const { return pending_.size() + writing_.size(); }

  // The next complete frame already buffered, if any. It stays valid until the next call to
  // TryNextFrame, ReadMore or NextFrame. Sets `*error` (and returns nullopt) on a framing error.
  std::optional<protocol::Frame> TryNextFrame(absl::Status* error);
  // Reads more bytes from the transport. Unavailable on EOF or a transport error.
  asio::awaitable<absl::Status> ReadMore();
  // TryNextFrame, reading as needed.
  asio::awaitable<absl::StatusOr<protocol::Frame>> NextFrame();

  // Closes the transport at once; pending reads and writes fail.
  void Close();
  bool is_open() const { return transport_->is_open() && write_error_.ok(); }
  asio::any_io_executor executor() const { return transport_->executor(); }
  // The first write error, if a write failed.
  const absl::Status& write_error() const { return write_error_; }

 private:
  explicit PacketStream(std::unique_ptr<Transport> transport);
  asio::awaitable<void> WriteLoop();

  std::unique_ptr<Transport> transport_;
  protocol::ProtocolVersion version_ = protocol::ProtocolVersion::kMqtt5;
  uint32_t max_incoming_ = protocol::kMaxPacketSize;

  // Receive buffer: bytes [begin_, end_) of in_ are unconsumed; `release_` bytes at begin_
  // belong to the frame handed out last and are dropped on the next call.
  std::string in_;
  size_t begin_ = 0;
  size_t end_ = 0;
  size_t release_ = 0;

  // Write queue: `pending_` collects encoded packets while `writing_` is on the wire.
  std::string pending_;
  std::string writing_;
  bool write_in_flight_ = false;
  uint64_t queued_total_ = 0;
  uint64_t written_total_ = 0;
  absl::Status write_error_;
  base::Event written_;
};

}  // namespace simq::client

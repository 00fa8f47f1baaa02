#include "broker/client/packet_stream.h"

#include <cstring>

#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"

#include "broker/protocol/encoder.h"

namespace simq::client {

using protocol::Frame;

namespace {
constexpr size_t kMinRead = 4096;
}  // namespace

absl::StatusOr<OwnedPacket> OwnedPacket::Decode(const Frame& frame,
                                                protocol::ProtocolVersion version) {
  OwnedPacket owned;
  owned.size_ = frame.header.total_size();
  owned.storage_ = std::make_unique<char[]>(owned.size_);
  std::memcpy(owned.storage_.get(), frame.body.data() - frame.header.header_size, owned.size_);
  Frame copy{frame.header, std::string_view(owned.storage_.get() + frame.header.header_size,
                                            frame.header.remaining_length)};
  absl::StatusOr<protocol::Packet> packet = protocol::DecodePacket(copy, version);
  if (!packet.ok()) return packet.status();
  owned.packet_ = *std::move(packet);
  return owned;
}

std::shared_ptr<PacketStream> PacketStream::Create(std::unique_ptr<Transport> transport) {
  return std::shared_ptr<PacketStream>(new PacketStream(std::move(transport)));
}

PacketStream::PacketStream(std::unique_ptr<Transport> transport)
    : transport_(std::move(transport)), written_(transport_->executor()) {}

PacketStream::~PacketStream() {
  transport_->Close();
}

void PacketStream::Send(const protocol::Packet& packet) {
  protocol::EncodePacket(packet, version_, &pending_);
  StartWriting();
}

void PacketStream::SendRaw(std::string_view bytes) {
  pending_.append(bytes);
  StartWriting();
}

void PacketStream::StartWriting() {
  if (write_in_flight_ || pending_.empty() || !write_error_.ok()) return;
  write_in_flight_ = true;
  asio::co_spawn(
      transport_->executor(), [self = shared_from_this()] { return self->WriteLoop(); },
      asio::detached);
}

asio::awaitable<void> PacketStream::WriteLoop() {
  while (!pending_.empty() && write_error_.ok()) {
    writing_.swap(pending_);
    queued_total_ += writing_.size();
    asio::const_buffer buffer(writing_.data(), writing_.size());
    boost::system::error_code ec = co_await transport_->WriteAll(std::span(&buffer, 1));
    if (ec) {
      write_error_ = absl::UnavailableError("write failed: " + ec.message());
    } else {
      written_total_ += writing_.size();
    }
    writing_.clear();
    written_.NotifyAll();
  }
  write_in_flight_ = false;
}

asio::awaitable<absl::Status> PacketStream::Flush() {
  // queued_total_ already counts the bytes on the wire now (writing_).
  const uint64_t target = queued_total_ + pending_.size();
  while (written_total_ < target && write_error_.ok()) {
    StartWriting();
    co_await written_.Wait();
  }
  co_return write_error_;
}

std::optional<Frame> PacketStream::TryNextFrame(absl::Status* error) {
  begin_ += release_;
  release_ = 0;
  std::string_view buffered(in_.data() + begin_, end_ - begin_);
  absl::StatusOr<std::optional<protocol::FixedHeader>> header =
      protocol::ParseFixedHeader(buffered, max_incoming_);
  if (!header.ok()) {
    *error = header.status();
    return std::nullopt;
  }
  if (!header->has_value() || buffered.size() < (*header)->total_size()) return std::nullopt;
  release_ = (*header)->total_size();
  return protocol::MakeFrame(**header, buffered);
}

asio::awaitable<absl::Status> PacketStream::ReadMore() {
  begin_ += release_;
  release_ = 0;
  // Compact, then make room for at least the rest of the packet being received.
  if (begin_ == end_) {
    begin_ = end_ = 0;
  } else if (begin_ > 0 && (begin_ > in_.size() / 2 || in_.size() - end_ < kMinRead)) {
    std::memmove(in_.data(), in_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  size_t want = kMinRead;
  absl::StatusOr<std::optional<protocol::FixedHeader>> header = protocol::ParseFixedHeader(
      std::string_view(in_.data() + begin_, end_ - begin_), max_incoming_);
  if (header.ok() && header->has_value()) {
    size_t total = (*header)->total_size();
    if (total > end_ - begin_) want = std::max(want, total - (end_ - begin_));
  }
  if (in_.size() - end_ < want) in_.resize(end_ + want);
  auto [ec, n] = co_await transport_->ReadSome(asio::buffer(in_.data() + end_, in_.size() - end_));
  if (ec) {
    co_return absl::UnavailableError(ec == asio::error::eof ? "connection closed by peer"
                                                            : "read failed: " + ec.message());
  }
  end_ += n;
  co_return absl::OkStatus();
}

asio::awaitable<absl::StatusOr<Frame>> PacketStream::NextFrame() {
  while (true) {
    absl::Status error;
    if (std::optional<Frame> frame = TryNextFrame(&error)) co_return *frame;
    if (!error.ok()) co_return error;
    if (absl::Status s = co_await ReadMore(); !s.ok()) co_return s;
  }
}

void PacketStream::Close() {
  transport_->Close();
  written_.NotifyAll();
}

}  // namespace simq::client

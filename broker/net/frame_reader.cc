#include "broker/net/frame_reader.h"

#include "broker/protocol/decoder.h"

namespace simq::net {
namespace {

// Capacity kept for the tail of an incomplete packet; more is returned to the allocator once
// the packet is complete, so idle connections stay small.
constexpr size_t kKeptCapacity = 16 * 1024;

}  // namespace

FrameReader::Result FrameReader::Feed(core::ClientHandler& handler, std::string_view data) {
  if (stopped_) return kStopped;
  if (paused_) {
    partial_.append(data);
    return kPaused;
  }
  std::string_view view = data;
  if (!partial_.empty()) {
    partial_.append(data);
    view = partial_;
  }
  size_t consumed = 0;
  const Result result = Process(handler, view, &consumed);
  if (result == kStopped) {
    std::string().swap(partial_);
    return kStopped;
  }
  if (partial_.empty()) {
    partial_.assign(view.substr(consumed));
  } else {
    partial_.erase(0, consumed);
  }
  if (partial_.empty() && partial_.capacity() > kKeptCapacity) std::string().swap(partial_);
  return result;
}

FrameReader::Result FrameReader::Resume(core::ClientHandler& handler) {
  paused_ = false;
  if (stopped_) return kStopped;
  std::string backlog;
  backlog.swap(partial_);
  return Feed(handler, backlog);
}

FrameReader::Result FrameReader::Process(core::ClientHandler& handler, std::string_view data,
                                         size_t* consumed) {
  size_t pos = 0;
  while (!paused_) {
    const std::string_view rest = data.substr(pos);
    absl::StatusOr<std::optional<protocol::FixedHeader>> header =
        protocol::ParseFixedHeader(rest, handler.max_inbound_packet_size());
    if (!header.ok()) {
      stopped_ = true;
      handler.OnFramingError(header.status());
      return kStopped;
    }
    if (!header->has_value() || rest.size() < (*header)->total_size()) break;
    current_ = rest;
    const bool keep = handler.OnFrame(protocol::MakeFrame(**header, rest));
    current_ = std::string_view();
    pos += (*header)->total_size();
    if (!keep) {
      stopped_ = true;
      return kStopped;
    }
  }
  *consumed = pos;
  return paused_ ? kPaused : kContinue;
}

}  // namespace simq::net

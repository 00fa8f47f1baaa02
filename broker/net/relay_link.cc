#include "broker/net/relay_link.h"

#include "boost/asio/post.hpp"

#include "broker/core/broker.h"
#include "broker/net/stream_connection.h"

namespace simq::net {

std::shared_ptr<RelayLink> RelayLink::Create(core::Worker& worker, core::Worker& io_worker,
                                             std::weak_ptr<StreamConnection> stream, Info info) {
  auto link = std::make_shared<RelayLink>(worker, io_worker, std::move(stream), std::move(info));
  link->lifeline_.async_wait([link](const boost::system::error_code&) {});
  return link;
}

RelayLink::RelayLink(core::Worker& worker, core::Worker& io_worker,
                     std::weak_ptr<StreamConnection> stream, Info info)
    : worker_(worker),
      io_worker_(io_worker),
      stream_(std::move(stream)),
      info_(std::move(info)),
      lifeline_(worker.io(), asio::steady_timer::time_point::max()) {
  handler_ = std::make_unique<core::ClientHandler>(worker_, *this);
}

RelayLink::~RelayLink() {
  // The handler may still write into us while it detaches; destroy it first.
  handler_.reset();
}

template <typename F>
void RelayLink::ToStream(F f) {
  if (&io_worker_ == &worker_) {
    if (std::shared_ptr<StreamConnection> s = stream_.lock()) f(*s);
    return;
  }
  asio::post(io_worker_.io(), [stream = stream_, f = std::move(f)]() mutable {
    if (std::shared_ptr<StreamConnection> s = stream.lock()) f(*s);
  });
}

void RelayLink::OnBytes(std::string_view data) {
  Take(data, data.size());
}

void RelayLink::Take(std::string_view data, size_t credit) {
  if (closing_) {
    ReturnCredit(credit);
    return;
  }
  if (credit != 0) handler_->OnBytesRead(credit);
  switch (reader_.Feed(*handler_, data)) {
    case FrameReader::kPaused: held_credit_ += credit; break;
    case FrameReader::kStopped:
      // Closed or migrated: nothing more is read through this link.
      closing_ = true;
      ReturnCredit(credit);
      break;
    case FrameReader::kContinue: ReturnCredit(credit); break;
  }
}

void RelayLink::ReturnCredit(size_t n) {
  if (n != 0) ToStream([n](StreamConnection& s) { s.Consumed(n); });
}

void RelayLink::ResumeReading() {
  asio::post(worker_.io(), [self = shared_from_this()] {
    if (self->closing_ || !self->reader_.paused()) return;
    const FrameReader::Result result = self->reader_.Resume(*self->handler_);
    if (result == FrameReader::kPaused) return;
    if (result == FrameReader::kStopped) self->closing_ = true;
    self->ReturnCredit(std::exchange(self->held_credit_, 0));
  });
}

void RelayLink::OnWritten(size_t n) {
  in_transit_ -= std::min(n, in_transit_);
  if (ended_) return;
  handler_->OnBytesWritten(n);
  if (buffered_bytes() < worker_.broker().config().backpressure.write_buffer_low_watermark) {
    handler_->OnDrained();
  }
}

void RelayLink::OnStreamClosed() {
  if (ended_) return;
  ended_ = true;
  closing_ = true;
  pending_.clear();
  handler_->OnTransportClosed();
  Release();
}

void RelayLink::Release() {
  // The lifeline's handler runs later, dropping the last reference on this worker.
  lifeline_.cancel();
}

void RelayLink::Flush() {
  if (ended_ || flush_posted_) return;
  flush_posted_ = true;
  // Everything the handler queues during this event-loop turn goes over as one piece.
  asio::post(worker_.io(), [self = shared_from_this()] {
    self->flush_posted_ = false;
    self->SendPending();
  });
}

void RelayLink::SendPending() {
  if (ended_ || pending_.empty()) return;
  std::string bytes;
  bytes.swap(pending_);
  in_transit_ += bytes.size();
  ToStream([bytes = std::move(bytes)](StreamConnection& s) mutable { s.Write(std::move(bytes)); });
}

void RelayLink::Close() {
  if (ended_) return;
  closing_ = true;
  SendPending();
  ToStream([](StreamConnection& s) { s.Close(); });
}

void RelayLink::Abort() {
  if (ended_) return;
  closing_ = true;
  pending_.clear();
  ToStream([](StreamConnection& s) { s.Abort(); });
}

bool RelayLink::MigrateTo(uint32_t worker) {
  // Only before CONNECT is handled, so on the stream's worker: see relay_link.h.
  std::string replay(reader_.current());
  closing_ = true;
  auto slot = std::make_shared<LinkSlot>();
  core::Worker& target = worker_.broker().worker(worker);
  ended_ = true;  // this link is done; the stream goes on with the new one
  Release();
  std::shared_ptr<StreamConnection> stream = stream_.lock();
  if (!stream) return false;  // the connection is already gone
  stream->Rebind(target, slot);
  asio::post(target.io(), [&target, &io_worker = io_worker_, slot, weak = stream_,
                           info = std::move(info_), replay = std::move(replay)]() mutable {
    std::shared_ptr<RelayLink> link = Create(target, io_worker, weak, std::move(info));
    slot->link = link;
    link->Take(replay, 0);  // the stream's credit for these bytes came back from this link
  });
  return true;
}

}  // namespace simq::net

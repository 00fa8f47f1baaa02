#include "broker/net/stream_connection.h"

#include "boost/asio/co_spawn.hpp"
#include "boost/asio/post.hpp"

#include "broker/base/log.h"
#include "broker/core/broker.h"

namespace simq::net {
namespace {

constexpr size_t kReadBufferSize = 16 * 1024;  // a TLS record
constexpr size_t kKeptCapacity = 16 * 1024;

}  // namespace

void StreamConnection::Start(core::Worker& worker, std::unique_ptr<ServerStream> stream, Peer peer,
                             std::chrono::milliseconds handshake_timeout) {
  auto connection = std::make_shared<StreamConnection>(worker, std::move(stream), std::move(peer),
                                                       handshake_timeout);
  asio::co_spawn(worker.io(), connection->Run(), [connection](std::exception_ptr e) {
    if (!e) return;
    // STYLE §15: an exception here is a bug; it ends this connection only.
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      SIMQ_LOG_ERROR("connection from {}: unexpected exception: {}",
                     connection->peer_.remote_address, ex.what());
    }
    connection->Finish();
  });
}

StreamConnection::StreamConnection(core::Worker& worker, std::unique_ptr<ServerStream> stream,
                                   Peer peer, std::chrono::milliseconds handshake_timeout)
    : worker_(worker),
      stream_(std::move(stream)),
      peer_(std::move(peer)),
      handshake_timeout_(handshake_timeout),
      deadline_(worker.io()),
      link_worker_(&worker),
      slot_(std::make_shared<LinkSlot>()),
      wake_writer_(worker.io().get_executor()),
      credit_(worker.io().get_executor()),
      reader_done_(worker.io().get_executor()) {}

template <typename F>
void StreamConnection::ToLink(F f) {
  if (link_worker_ == &worker_) {
    if (std::shared_ptr<RelayLink> link = slot_->link.lock()) f(*link);
    return;
  }
  asio::post(link_worker_->io(), [slot = slot_, f = std::move(f)]() mutable {
    if (std::shared_ptr<RelayLink> link = slot->link.lock()) f(*link);
  });
}

void StreamConnection::ArmDeadline() {
  deadline_.expires_after(handshake_timeout_);
  deadline_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    if (ec) return;
    if (std::shared_ptr<StreamConnection> self = weak.lock()) self->Finish();
  });
}

asio::awaitable<void> StreamConnection::Run() {
  auto self = shared_from_this();
  ArmDeadline();
  const boost::system::error_code ec = co_await stream_->Handshake();
  deadline_.cancel();
  if (ec || closed_) {
    SIMQ_LOG_DEBUG("listener {}: handshake with {} failed: {}", peer_.listener,
                   peer_.remote_address, ec.message());
    closed_ = true;  // no link yet: nothing to tell
    stream_->Close();
    co_return;
  }
  RelayLink::Info info;
  info.listener = peer_.listener;
  info.remote_address = peer_.remote_address;
  info.admission = peer_.admission;
  info.certificate_username = stream_->certificate_username();
  slot_->link = RelayLink::Create(worker_, worker_, self, std::move(info));
  asio::co_spawn(worker_.io(), WriteLoop(), [self](std::exception_ptr e) {
    if (e) self->Finish();
  });
  co_await ReadLoop();
}

asio::awaitable<void> StreamConnection::ReadLoop() {
  auto self = shared_from_this();
  reader_active_ = true;
  std::unique_ptr<char[]> buffer(new char[kReadBufferSize]);
  while (reading_ && !closed_) {
    if (unconsumed_ >= kRelayWindow) {
      co_await credit_.Wait();
      continue;
    }
    auto [ec, n] = co_await stream_->ReadSome(asio::buffer(buffer.get(), kReadBufferSize));
    if (closed_) break;
    if (ec) {
      // The peer went away (or broke the protocol). While closing gracefully the writer ends
      // the connection; a cancelled read is the writer taking over for the TLS shutdown.
      if (!closing_) Finish();
      break;
    }
    if (!reading_) break;  // Close() was called meanwhile: the rest is not read
    unconsumed_ += n;
    if (link_worker_ == &worker_) {
      const std::string_view data(buffer.get(), n);
      ToLink([data](RelayLink& link) { link.OnBytes(data); });
    } else {
      ToLink([data = std::string(buffer.get(), n)](RelayLink& link) { link.OnBytes(data); });
    }
  }
  reader_active_ = false;
  reader_done_.NotifyAll();
}

asio::awaitable<void> StreamConnection::WriteLoop() {
  auto self = shared_from_this();
  while (!closed_) {
    if (pending_.empty()) {
      if (closing_) break;
      co_await wake_writer_.Wait();
      continue;
    }
    writing_.swap(pending_);
    const boost::system::error_code ec = co_await stream_->Write(asio::buffer(writing_));
    if (closed_) co_return;
    if (ec) {
      Finish();
      co_return;
    }
    const size_t n = writing_.size();
    writing_.clear();
    if (writing_.capacity() > kKeptCapacity) std::string().swap(writing_);
    ToLink([n](RelayLink& link) { link.OnWritten(n); });
  }
  if (closed_) co_return;
  // Graceful close: everything queued is written; end the stream properly, within the
  // handshake timeout.
  reading_ = false;
  ArmDeadline();
  if (!stream_->shutdown_while_reading()) {
    stream_->CancelRead();
    while (reader_active_ && !closed_) co_await reader_done_.Wait();
  }
  if (!closed_) co_await stream_->Shutdown();
  Finish();
}

void StreamConnection::Write(std::string bytes) {
  if (closed_ || closing_) return;
  if (pending_.empty()) {
    pending_ = std::move(bytes);
  } else {
    pending_.append(bytes);
  }
  wake_writer_.NotifyAll();
}

void StreamConnection::Close() {
  if (closed_ || closing_) return;
  closing_ = true;
  reading_ = false;
  wake_writer_.NotifyAll();
}

void StreamConnection::Abort() {
  Finish();
}

void StreamConnection::Consumed(size_t n) {
  const bool was_full = unconsumed_ >= kRelayWindow;
  unconsumed_ -= std::min(n, unconsumed_);
  if (was_full && unconsumed_ < kRelayWindow) credit_.NotifyAll();
}

void StreamConnection::Rebind(core::Worker& worker, std::shared_ptr<LinkSlot> slot) {
  link_worker_ = &worker;
  slot_ = std::move(slot);
}

void StreamConnection::Finish() {
  if (closed_) return;
  closed_ = true;
  reading_ = false;
  boost::system::error_code ignored;
  deadline_.cancel();
  stream_->Close();
  pending_.clear();
  wake_writer_.NotifyAll();
  credit_.NotifyAll();
  reader_done_.NotifyAll();
  ToLink([](RelayLink& link) { link.OnStreamClosed(); });
  // Release the per-address slot now, not when the last coroutine frame lets go.
  peer_.slot = ConnectionSlot();
}

}  // namespace simq::net

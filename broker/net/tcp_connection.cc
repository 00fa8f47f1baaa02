#include "broker/net/tcp_connection.h"

#include <array>

#include "boost/asio/post.hpp"
#include "boost/asio/write.hpp"
#include "fmt/format.h"

#include "broker/base/log.h"
#include "broker/core/broker.h"

namespace simq::net {

using asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr size_t kScratchSize = 64 * 1024;
// Output capacity kept between writes; more is returned to the allocator, so idle connections
// stay small.
constexpr size_t kKeptCapacity = 16 * 1024;

char* Scratch() {
  thread_local std::unique_ptr<char[]> scratch(new char[kScratchSize]);
  return scratch.get();
}

}  // namespace

std::string FormatEndpoint(const tcp::endpoint& e) {
  const asio::ip::address a = e.address();
  return a.is_v6() ? fmt::format("[{}]:{}", a.to_string(), e.port())
                   : fmt::format("{}:{}", a.to_string(), e.port());
}

void TcpConnection::Start(core::Worker& worker, tcp::socket socket, Peer peer,
                          std::string initial) {
  auto connection = std::make_shared<TcpConnection>(worker, std::move(socket), std::move(peer));
  connection->Begin(std::move(initial));
}

TcpConnection::TcpConnection(core::Worker& worker, tcp::socket socket, Peer peer)
    : worker_(worker), socket_(std::move(socket)), peer_(std::move(peer)) {
  error_code ec;
  if (peer_.remote_address.empty()) {
    tcp::endpoint endpoint = socket_.remote_endpoint(ec);
    peer_.remote_address = ec ? "unknown" : FormatEndpoint(endpoint);
  }
  socket_.set_option(tcp::no_delay(true), ec);
  socket_.non_blocking(true, ec);
  handler_ = std::make_unique<core::ClientHandler>(worker_, *this);
}

TcpConnection::~TcpConnection() {
  // The handler may still write into us while it detaches; destroy it first.
  handler_.reset();
}

void TcpConnection::Begin(std::string initial) {
  if (!initial.empty() && reader_.Feed(*handler_, initial) != FrameReader::kContinue) return;
  WaitReadable();
}

void TcpConnection::WaitReadable() {
  if (!reading_ || reader_.paused()) return;
  socket_.async_wait(tcp::socket::wait_read,
                     [self = shared_from_this()](const error_code& ec) { self->OnReadable(ec); });
}

void TcpConnection::OnReadable(const error_code& wait_error) {
  if (!reading_) return;
  if (wait_error) {
    Finish();
    return;
  }
  char* scratch = Scratch();
  // Bounded work per wake-up keeps one busy connection from starving the others.
  for (int round = 0; round < 4 && reading_; ++round) {
    error_code ec;
    size_t n = socket_.read_some(asio::buffer(scratch, kScratchSize), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) break;
    if (ec) {
      Finish();
      return;
    }
    handler_->OnBytesRead(n);
    const FrameReader::Result result = reader_.Feed(*handler_, std::string_view(scratch, n));
    if (result == FrameReader::kStopped) {
      reading_ = false;
      return;
    }
    if (result == FrameReader::kPaused) return;  // ResumeReading waits for readability again
    if (n < kScratchSize) break;
  }
  WaitReadable();
}

void TcpConnection::PauseReading() {
  reader_.Pause();
  paused_self_ = shared_from_this();
}

void TcpConnection::ReleasePausedSelf() {
  // Later, not now: the handler calling Close may be the last thing using this connection.
  if (paused_self_) asio::post(socket_.get_executor(), [self = std::move(paused_self_)] {});
}

void TcpConnection::ResumeReading() {
  // Not from inside the handler's call: go on in the next turn.
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->paused_self_.reset();
    if (!self->reading_ || !self->reader_.paused()) return;
    const FrameReader::Result result = self->reader_.Resume(*self->handler_);
    if (result == FrameReader::kStopped) {
      self->reading_ = false;
    } else if (result == FrameReader::kContinue) {
      self->WaitReadable();
    }
  });
}

void TcpConnection::Flush() {
  if (closed_ || write_in_flight_ || flush_posted_) return;
  flush_posted_ = true;
  // Gather everything queued in this event-loop turn into one write.
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->flush_posted_ = false;
    self->StartWrite();
  });
}

void TcpConnection::StartWrite() {
  if (closed_ || write_in_flight_) return;
  if (pending_.empty()) {
    if (closing_) Finish();
    return;
  }
  writing_.swap(pending_);
  write_in_flight_ = true;
  asio::async_write(
      socket_, asio::buffer(writing_),
      [self = shared_from_this()](const error_code& ec, size_t n) { self->OnWritten(ec, n); });
}

void TcpConnection::OnWritten(const error_code& ec, size_t n) {
  write_in_flight_ = false;
  if (closed_) return;
  if (ec) {
    Finish();
    return;
  }
  handler_->OnBytesWritten(n);
  writing_.clear();
  if (writing_.capacity() > kKeptCapacity) std::string().swap(writing_);
  if (!pending_.empty()) {
    StartWrite();
  } else if (closing_) {
    Finish();
    return;
  }
  if (buffered_bytes() < worker_.broker().config().backpressure.write_buffer_low_watermark) {
    handler_->OnDrained();
  }
}

void TcpConnection::Close() {
  ReleasePausedSelf();
  if (closed_ || closing_) return;
  closing_ = true;
  reading_ = false;
  if (!write_in_flight_) StartWrite();
}

void TcpConnection::Abort() {
  if (closed_) return;
  reading_ = false;
  Finish();
}

void TcpConnection::Finish() {
  ReleasePausedSelf();
  if (closed_) return;
  closed_ = true;
  reading_ = false;
  error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  pending_.clear();
  handler_->OnTransportClosed();
}

bool TcpConnection::MigrateTo(uint32_t worker) {
  std::string bytes(reader_.current());
  reading_ = false;
  error_code ec;
  const tcp protocol = socket_.local_endpoint(ec).protocol();
  if (ec) return false;
  tcp::socket::native_handle_type fd = socket_.release(ec);
  if (ec) return false;
  closed_ = true;  // the descriptor belongs to the new connection now
  core::Worker& target = worker_.broker().worker(worker);
  asio::post(target.io(), [&target, protocol, fd, bytes = std::move(bytes),
                           peer = std::move(peer_)]() mutable {
    error_code ec;
    tcp::socket socket(target.io());
    socket.assign(protocol, fd, ec);
    if (ec) {
      SIMQ_LOG_WARN("cannot move a connection to worker {}: {}", target.index(), ec.message());
      ::close(fd);
      return;
    }
    TcpConnection::Start(target, std::move(socket), std::move(peer), std::move(bytes));
  });
  return true;
}

}  // namespace simq::net

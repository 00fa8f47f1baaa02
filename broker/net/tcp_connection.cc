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

std::string FormatEndpoint(const tcp::endpoint& e) {
  const asio::ip::address a = e.address();
  return a.is_v6() ? fmt::format("[{}]:{}", a.to_string(), e.port())
                   : fmt::format("{}:{}", a.to_string(), e.port());
}

}  // namespace

void TcpConnection::Start(core::Worker& worker, tcp::socket socket, std::string listener_name,
                          std::string initial) {
  auto connection =
      std::make_shared<TcpConnection>(worker, std::move(socket), std::move(listener_name));
  connection->Begin(std::move(initial));
}

TcpConnection::TcpConnection(core::Worker& worker, tcp::socket socket, std::string listener_name)
    : worker_(worker), socket_(std::move(socket)), listener_(std::move(listener_name)) {
  error_code ec;
  tcp::endpoint peer = socket_.remote_endpoint(ec);
  remote_ = ec ? "unknown" : FormatEndpoint(peer);
  socket_.set_option(tcp::no_delay(true), ec);
  socket_.non_blocking(true, ec);
  handler_ = std::make_unique<core::ClientHandler>(worker_, *this);
}

TcpConnection::~TcpConnection() {
  // The handler may still write into us while it detaches; destroy it first.
  handler_.reset();
}

void TcpConnection::Begin(std::string initial) {
  if (!initial.empty()) {
    size_t consumed = 0;
    if (!ProcessFrames(initial, &consumed)) return;
    partial_ = initial.substr(consumed);
  }
  WaitReadable();
}

void TcpConnection::WaitReadable() {
  if (!reading_) return;
  socket_.async_wait(tcp::socket::wait_read,
                     [self = shared_from_this()](const error_code& ec) { self->OnReadable(ec); });
}

void TcpConnection::OnReadable(const error_code& wait_error) {
  if (!reading_) return;
  if (wait_error) {
    TransportClosed();
    return;
  }
  char* scratch = Scratch();
  // Bounded work per wake-up keeps one busy connection from starving the others.
  for (int round = 0; round < 4 && reading_; ++round) {
    error_code ec;
    size_t n = socket_.read_some(asio::buffer(scratch, kScratchSize), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) break;
    if (ec) {
      TransportClosed();
      return;
    }
    handler_->OnBytesRead(n);
    std::string_view data;
    if (partial_.empty()) {
      data = std::string_view(scratch, n);
    } else {
      partial_.append(scratch, n);
      data = partial_;
    }
    size_t consumed = 0;
    if (!ProcessFrames(data, &consumed)) return;
    if (partial_.empty()) {
      partial_.assign(data.substr(consumed));
    } else {
      partial_.erase(0, consumed);
    }
    if (partial_.empty() && partial_.capacity() > kKeptCapacity) std::string().swap(partial_);
    if (n < kScratchSize) break;
  }
  WaitReadable();
}

bool TcpConnection::ProcessFrames(std::string_view data, size_t* consumed) {
  size_t pos = 0;
  while (reading_) {
    std::string_view rest = data.substr(pos);
    absl::StatusOr<std::optional<protocol::FixedHeader>> header =
        protocol::ParseFixedHeader(rest, handler_->max_inbound_packet_size());
    if (!header.ok()) {
      handler_->OnFramingError(header.status());
      reading_ = false;
      return false;
    }
    if (!header->has_value() || rest.size() < (*header)->total_size()) break;
    current_ = rest;
    bool keep = handler_->OnFrame(protocol::MakeFrame(**header, rest));
    current_ = std::string_view();
    pos += (*header)->total_size();
    if (!keep) {
      reading_ = false;
      return false;
    }
  }
  *consumed = pos;
  return reading_;
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
    TransportClosed();
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
  if (closed_) return;
  closed_ = true;
  reading_ = false;
  error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  pending_.clear();
  handler_->OnTransportClosed();
}

void TcpConnection::TransportClosed() {
  if (closed_) return;
  reading_ = false;
  Finish();
}

bool TcpConnection::MigrateTo(uint32_t worker) {
  std::string bytes(current_);
  reading_ = false;
  error_code ec;
  const tcp protocol = socket_.local_endpoint(ec).protocol();
  if (ec) return false;
  tcp::socket::native_handle_type fd = socket_.release(ec);
  if (ec) return false;
  closed_ = true;  // the descriptor belongs to the new connection now
  core::Worker& target = worker_.broker().worker(worker);
  asio::post(target.io(), [&target, protocol, fd, bytes = std::move(bytes),
                           listener = listener_]() mutable {
    error_code ec;
    tcp::socket socket(target.io());
    socket.assign(protocol, fd, ec);
    if (ec) {
      SIMQ_LOG_WARN("cannot move a connection to worker {}: {}", target.index(), ec.message());
      ::close(fd);
      return;
    }
    TcpConnection::Start(target, std::move(socket), std::move(listener), std::move(bytes));
  });
  return true;
}

}  // namespace simq::net

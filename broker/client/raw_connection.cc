#include "broker/client/raw_connection.h"

#include "boost/asio/as_tuple.hpp"
#include "boost/asio/experimental/awaitable_operators.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/use_awaitable.hpp"

namespace simq::client {

asio::awaitable<absl::StatusOr<std::unique_ptr<RawConnection>>> RawConnection::Connect(
    asio::any_io_executor executor, Endpoint endpoint, protocol::ProtocolVersion version,
    std::chrono::milliseconds timeout) {
  absl::StatusOr<std::unique_ptr<Transport>> transport =
      co_await ConnectTransport(executor, endpoint, timeout);
  if (!transport.ok()) co_return transport.status();
  auto stream = PacketStream::Create(*std::move(transport));
  stream->set_version(version);
  co_return std::make_unique<RawConnection>(std::move(stream));
}

asio::awaitable<absl::StatusOr<OwnedPacket>> RawConnection::Receive(
    std::chrono::milliseconds timeout) {
  using namespace asio::experimental::awaitable_operators;
  if (closed_) co_return absl::UnavailableError("connection closed");
  asio::steady_timer timer(stream_->executor(), timeout);
  auto result =
      co_await (stream_->NextFrame() || timer.async_wait(asio::as_tuple(asio::use_awaitable)));
  if (result.index() == 1) co_return absl::DeadlineExceededError("no packet received in time");
  absl::StatusOr<protocol::Frame> frame = std::get<0>(std::move(result));
  if (!frame.ok()) {
    if (absl::IsUnavailable(frame.status())) closed_ = true;
    co_return frame.status();
  }
  co_return OwnedPacket::Decode(*frame, stream_->version());
}

asio::awaitable<bool> RawConnection::WaitClosed(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!closed_) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) co_return false;
    absl::StatusOr<OwnedPacket> p = co_await Receive(left);
    if (!p.ok() && absl::IsDeadlineExceeded(p.status())) co_return false;
  }
  co_return true;
}

}  // namespace simq::client

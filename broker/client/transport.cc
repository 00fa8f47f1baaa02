#include "broker/client/transport.h"

#include "boost/asio/as_tuple.hpp"
#include "boost/asio/connect.hpp"
#include "boost/asio/experimental/awaitable_operators.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "boost/asio/write.hpp"
#include "fmt/format.h"

namespace simq::client {
namespace {

using asio::ip::tcp;
using boost::system::error_code;
constexpr auto kUse = asio::as_tuple(asio::use_awaitable);

class TcpTransport final : public Transport {
 public:
  explicit TcpTransport(tcp::socket socket)
      : executor_(socket.get_executor()), socket_(std::move(socket)) {}

  asio::awaitable<std::pair<error_code, size_t>> ReadSome(asio::mutable_buffer buffer) override {
    auto [ec, n] = co_await socket_.async_read_some(buffer, kUse);
    co_return std::make_pair(ec, n);
  }

  asio::awaitable<error_code> WriteAll(std::span<const asio::const_buffer> buffers) override {
    auto [ec, n] = co_await asio::async_write(socket_, buffers, kUse);
    co_return ec;
  }

  void Close() override {
    error_code ignored;
    socket_.close(ignored);
  }

  bool is_open() const override { return socket_.is_open(); }
  asio::any_io_executor executor() const override { return executor_; }

 private:
  asio::any_io_executor executor_;
  tcp::socket socket_;
};

}  // namespace

asio::awaitable<absl::StatusOr<std::unique_ptr<Transport>>> ConnectTransport(
    asio::any_io_executor executor, Endpoint endpoint, std::chrono::milliseconds timeout) {
  using namespace asio::experimental::awaitable_operators;
  tcp::resolver resolver(executor);
  auto [rec, results] =
      co_await resolver.async_resolve(endpoint.host, std::to_string(endpoint.port), kUse);
  if (rec) {
    co_return absl::UnavailableError(
        fmt::format("cannot resolve {}: {}", endpoint.host, rec.message()));
  }
  tcp::socket socket(executor);
  asio::steady_timer timer(executor, timeout);
  auto outcome = co_await (asio::async_connect(socket, results, kUse) || timer.async_wait(kUse));
  if (outcome.index() == 1) {
    co_return absl::DeadlineExceededError(
        fmt::format("connecting to {}:{} timed out", endpoint.host, endpoint.port));
  }
  auto [ec, connected] = std::get<0>(outcome);
  if (ec) {
    co_return absl::UnavailableError(
        fmt::format("cannot connect to {}:{}: {}", endpoint.host, endpoint.port, ec.message()));
  }
  socket.set_option(tcp::no_delay(true), ec);
  co_return std::make_unique<TcpTransport>(std::move(socket));
}

}  // namespace simq::client

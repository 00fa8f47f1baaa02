#include "broker/net/listener.h"

#include <future>

#include "boost/asio/post.hpp"
#include "fmt/format.h"

#include "broker/base/log.h"
#include "broker/net/tcp_connection.h"

namespace simq::net {

using boost::asio::ip::tcp;
using boost::system::error_code;

Listener::Listener(core::Broker& broker, config::ListenerConfig config)
    : broker_(broker), config_(std::move(config)), acceptor_(broker.worker(0).io()) {}

Listener::~Listener() {
  Stop();
}

absl::Status Listener::Start() {
  if (config_.type != config::ListenerType::kTcp) {
    return absl::UnimplementedError(
        fmt::format("listener {}: only tcp listeners are available in this build", config_.name));
  }
  error_code ec;
  boost::asio::ip::address address = boost::asio::ip::make_address(config_.bind, ec);
  if (ec)
    return absl::InvalidArgumentError(
        fmt::format("listener {}: bad address {}", config_.name, config_.bind));
  tcp::endpoint endpoint(address, config_.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(boost::asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(fmt::format("listener {}: cannot listen on {}:{}: {}",
                                              config_.name, config_.bind, config_.port,
                                              ec.message()));
  }
  port_ = acceptor_.local_endpoint().port();
  SIMQ_LOG_INFO("listening on {}://{}:{}", "tcp", config_.bind, port_);
  boost::asio::post(acceptor_.get_executor(), [this] { Accept(); });
  return absl::OkStatus();
}

void Listener::Accept() {
  if (stopped_) return;
  const uint32_t w = next_worker_++ % broker_.worker_count();
  core::Worker& worker = broker_.worker(w);
  acceptor_.async_accept(worker.io(), [this, &worker](const error_code& ec, tcp::socket socket) {
    if (ec == boost::asio::error::operation_aborted || stopped_) return;
    if (!ec) {
      worker.stats().connections_accepted.Add();
      boost::asio::post(worker.io(),
                        [&worker, socket = std::move(socket), name = config_.name]() mutable {
                          TcpConnection::Start(worker, std::move(socket), std::move(name));
                        });
    } else {
      SIMQ_LOG_WARN("listener {}: accept failed: {}", config_.name, ec.message());
    }
    Accept();
  });
}

void Listener::Stop() {
  if (stopped_.exchange(true)) return;
  if (!acceptor_.is_open()) return;
  // The acceptor belongs to worker 0's thread.
  std::promise<void> done;
  boost::asio::post(acceptor_.get_executor(), [this, &done] {
    error_code ignored;
    acceptor_.close(ignored);
    done.set_value();
  });
  if (done.get_future().wait_for(std::chrono::seconds(5)) == std::future_status::timeout) {
    error_code ignored;
    acceptor_.close(ignored);  // the worker is not running; nobody else touches it
  }
}

}  // namespace simq::net

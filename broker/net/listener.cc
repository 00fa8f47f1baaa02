#include "broker/net/listener.h"

#include <future>

#include "boost/asio/as_tuple.hpp"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/experimental/awaitable_operators.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "fmt/format.h"

#include "broker/base/log.h"
#include "broker/net/proxy_protocol.h"
#include "broker/net/server_stream.h"
#include "broker/net/stream_connection.h"
#include "broker/net/tcp_connection.h"
#include "broker/net/tls.h"

namespace simq::net {

using boost::asio::ip::tcp;
using boost::system::error_code;
using protocol::ReasonCode;

Listener::Listener(core::Broker& broker, config::ListenerConfig config)
    : broker_(broker),
      config_(std::move(config)),
      acceptor_(broker.worker(0).io()),
      limits_(std::make_shared<ConnectionLimits>(config_.max_connections_per_address,
                                                 config_.connection_rate_per_second)) {}

Listener::~Listener() {
  Stop();
}

absl::Status Listener::Start() {
  if (config_.type == config::ListenerType::kTls || config_.type == config::ListenerType::kWss) {
    if (config_.cert_file.empty() || config_.key_file.empty()) {
      return absl::InvalidArgumentError(
          fmt::format("listener {}: a {} listener needs cert_file and key_file (set them in its "
                      "[[listeners]] table)",
                      config_.name, config::ListenerTypeName(config_.type)));
    }
    if (absl::Status s = Reload(); !s.ok()) return s;
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
  SIMQ_LOG_INFO(
      "listening on {}://{}:{}{}{}", config::ListenerTypeName(config_.type), config_.bind, port_,
      config_.type == config::ListenerType::kWs || config_.type == config::ListenerType::kWss
          ? config_.ws_path
          : "",
      config_.proxy_protocol ? " (PROXY protocol)" : "");
  boost::asio::post(acceptor_.get_executor(), [this] { Accept(); });
  return absl::OkStatus();
}

absl::Status Listener::Reload() {
  if (config_.type != config::ListenerType::kTls && config_.type != config::ListenerType::kWss) {
    return absl::OkStatus();
  }
  absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> ctx = MakeServerContext(config_);
  if (!ctx.ok()) return ctx.status();
  absl::MutexLock lock(&tls_mutex_);
  tls_ = std::move(*ctx);
  return absl::OkStatus();
}

std::shared_ptr<boost::asio::ssl::context> Listener::tls() const {
  absl::MutexLock lock(&tls_mutex_);
  return tls_;
}

void Listener::Accept() {
  if (stopped_) return;
  const uint32_t w = next_worker_++ % broker_.worker_count();
  core::Worker& worker = broker_.worker(w);
  acceptor_.async_accept(worker.io(), [this, &worker](const error_code& ec, tcp::socket socket) {
    if (ec == boost::asio::error::operation_aborted || stopped_) return;
    if (!ec) {
      worker.stats().connections_accepted.Add();
      // Over the rate, the client still gets its answer in CONNACK (0x9F), not a bare close.
      const ReasonCode admission =
          limits_->AdmitRate() ? ReasonCode::kSuccess : ReasonCode::kConnectionRateExceeded;
      boost::asio::co_spawn(
          worker.io(), Admit(worker, std::move(socket), config_, tls(), limits_, admission),
          [name = config_.name](std::exception_ptr e) {
            if (!e) return;
            try {
              std::rethrow_exception(e);
            } catch (const std::exception& ex) {
              SIMQ_LOG_ERROR("listener {}: unexpected exception: {}", name, ex.what());
            }
          });
    } else {
      SIMQ_LOG_WARN("listener {}: accept failed: {}", config_.name, ec.message());
    }
    Accept();
  });
}

boost::asio::awaitable<void> Listener::Admit(core::Worker& worker, tcp::socket socket,
                                             config::ListenerConfig config,
                                             std::shared_ptr<boost::asio::ssl::context> tls,
                                             std::shared_ptr<ConnectionLimits> limits,
                                             ReasonCode admission) {
  using namespace boost::asio::experimental::awaitable_operators;
  const std::chrono::milliseconds timeout(worker.broker().config().mqtt.connect_timeout_ms);
  error_code ec;
  tcp::endpoint client = socket.remote_endpoint(ec);
  if (ec) co_return;
  if (config.proxy_protocol) {
    boost::asio::steady_timer timer(worker.io(), timeout);
    auto outcome = co_await (ReadProxyHeader(socket) ||
                             timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable)));
    if (outcome.index() == 1) {
      SIMQ_LOG_DEBUG("listener {}: no PROXY header from {} in time", config.name,
                     FormatEndpoint(client));
      co_return;  // the socket closes
    }
    absl::StatusOr<std::optional<tcp::endpoint>> source = std::get<0>(std::move(outcome));
    if (!source.ok()) {
      SIMQ_LOG_INFO("listener {}: closing {}: {}", config.name, FormatEndpoint(client),
                    source.status().message());
      co_return;
    }
    if (source->has_value()) client = **source;
  }
  Peer peer;
  peer.listener = config.name;
  peer.remote_address = FormatEndpoint(client);
  if (admission == ReasonCode::kSuccess) {
    std::optional<ConnectionSlot> slot = limits->Acquire(client.address().to_string());
    if (slot) {
      peer.slot = std::move(*slot);
    } else {
      admission = ReasonCode::kQuotaExceeded;
    }
  }
  peer.admission = admission;
  if (admission != ReasonCode::kSuccess) {
    SIMQ_LOG_INFO("listener {}: refusing {}: {}", config.name, peer.remote_address,
                  admission == ReasonCode::kQuotaExceeded ? "too many connections from it"
                                                          : "connection rate exceeded");
  }
  if (config.type == config::ListenerType::kTcp) {
    TcpConnection::Start(worker, std::move(socket), std::move(peer));
    co_return;
  }
  StreamOptions options;
  options.type = config.type;
  options.tls = std::move(tls);
  options.identity = config.identity_as_username;
  options.ws_path = config.ws_path;
  options.handshake_timeout = timeout;
  socket.set_option(tcp::no_delay(true), ec);
  StreamConnection::Start(worker, MakeServerStream(std::move(socket), std::move(options)),
                          std::move(peer), timeout);
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

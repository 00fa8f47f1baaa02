#include "broker/client/transport.h"

#include <openssl/ssl.h>

#include "boost/asio/as_tuple.hpp"
#include "boost/asio/connect.hpp"
#include "boost/asio/experimental/awaitable_operators.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/ssl/context.hpp"
#include "boost/asio/ssl/host_name_verification.hpp"
#include "boost/asio/ssl/stream.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/websocket.hpp"
#include "boost/beast/websocket/ssl.hpp"
#include "fmt/format.h"

namespace simq::client {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using asio::ip::tcp;
using boost::system::error_code;
using TlsSocket = ssl::stream<tcp::socket>;
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

class TlsTransport final : public Transport {
 public:
  TlsTransport(std::shared_ptr<ssl::context> context, std::unique_ptr<TlsSocket> stream)
      : executor_(stream->get_executor()),
        context_(std::move(context)),
        stream_(std::move(stream)) {}

  asio::awaitable<std::pair<error_code, size_t>> ReadSome(asio::mutable_buffer buffer) override {
    auto [ec, n] = co_await stream_->async_read_some(buffer, kUse);
    co_return std::make_pair(ec, n);
  }
  asio::awaitable<error_code> WriteAll(std::span<const asio::const_buffer> buffers) override {
    auto [ec, n] = co_await asio::async_write(*stream_, buffers, kUse);
    co_return ec;
  }
  void Close() override {
    error_code ignored;
    stream_->lowest_layer().close(ignored);
  }
  bool is_open() const override { return stream_->lowest_layer().is_open(); }
  asio::any_io_executor executor() const override { return executor_; }

 private:
  asio::any_io_executor executor_;
  std::shared_ptr<ssl::context> context_;  // outlives the stream that refers to it
  std::unique_ptr<TlsSocket> stream_;
};

template <typename Next>
class WebSocketTransport final : public Transport {
 public:
  WebSocketTransport(std::shared_ptr<ssl::context> context,
                     std::unique_ptr<websocket::stream<Next>> ws)
      : executor_(ws->get_executor()), context_(std::move(context)), ws_(std::move(ws)) {}

  asio::awaitable<std::pair<error_code, size_t>> ReadSome(asio::mutable_buffer buffer) override {
    auto [ec, n] = co_await ws_->async_read_some(buffer, kUse);
    if (!ec && ws_->got_text()) ec = websocket::error::bad_data_frame;  // [MQTT-6.0.0-1]
    co_return std::make_pair(ec, n);
  }
  asio::awaitable<error_code> WriteAll(std::span<const asio::const_buffer> buffers) override {
    auto [ec, n] = co_await ws_->async_write(buffers, kUse);  // one binary message
    co_return ec;
  }
  void Close() override {
    error_code ignored;
    beast::get_lowest_layer(*ws_).close(ignored);
  }
  bool is_open() const override { return beast::get_lowest_layer(*ws_).is_open(); }
  asio::any_io_executor executor() const override { return executor_; }

 private:
  asio::any_io_executor executor_;
  std::shared_ptr<ssl::context> context_;
  std::unique_ptr<websocket::stream<Next>> ws_;
};

absl::StatusOr<std::shared_ptr<ssl::context>> MakeClientContext(const Endpoint& endpoint) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  error_code ec;
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  const TlsOptions& tls = endpoint.tls;
  if (tls.verify) {
    ctx->set_verify_mode(ssl::verify_peer, ec);
    if (tls.ca_file.empty()) {
      ctx->set_default_verify_paths(ec);
    } else {
      ctx->load_verify_file(tls.ca_file, ec);
    }
    if (ec) {
      return absl::InvalidArgumentError(
          fmt::format("cannot load CA file {}: {}", tls.ca_file, ec.message()));
    }
    const std::string& name = tls.server_name.empty() ? endpoint.host : tls.server_name;
    ctx->set_verify_callback(ssl::host_name_verification(name), ec);
  } else {
    ctx->set_verify_mode(ssl::verify_none, ec);
  }
  if (!tls.cert_file.empty()) {
    ctx->use_certificate_chain_file(tls.cert_file, ec);
    if (!ec) ctx->use_private_key_file(tls.key_file, ssl::context::pem, ec);
    if (ec) {
      return absl::InvalidArgumentError(fmt::format("cannot load client certificate {} / {}: {}",
                                                    tls.cert_file, tls.key_file, ec.message()));
    }
  }
  return ctx;
}

// Server Name Indication, unless the name is an IP address (RFC 6066 §3).
void SetServerName(SSL* ssl, const Endpoint& endpoint) {
  const std::string& name =
      endpoint.tls.server_name.empty() ? endpoint.host : endpoint.tls.server_name;
  error_code ec;
  asio::ip::make_address(name, ec);
  if (ec) SSL_set_tlsext_host_name(ssl, name.c_str());
}

std::string Describe(const Endpoint& e) {
  return fmt::format("{}:{}", e.host, e.port);
}

absl::Status TimedOut(std::string_view what, const Endpoint& endpoint) {
  return absl::DeadlineExceededError(fmt::format("{} {} timed out", what, Describe(endpoint)));
}

// The WebSocket upgrade, offering subprotocol `ws_subprotocol` and insisting on it.
template <typename Next>
asio::awaitable<absl::Status> Upgrade(websocket::stream<Next>& ws, const Endpoint& endpoint,
                                      asio::steady_timer& timer) {
  using namespace asio::experimental::awaitable_operators;
  ws.set_option(websocket::stream_base::decorator(
      [protocol = endpoint.ws_subprotocol](websocket::request_type& request) {
        request.set(http::field::user_agent, "simq-client");
        request.set(http::field::sec_websocket_protocol, protocol);
      }));
  websocket::response_type response;
  auto result =
      co_await (ws.async_handshake(response, Describe(endpoint), endpoint.ws_path, kUse) ||
                timer.async_wait(kUse));
  if (result.index() == 1) co_return TimedOut("WebSocket handshake with", endpoint);
  const error_code ec = std::get<0>(std::get<0>(result));
  if (ec) {
    co_return absl::FailedPreconditionError(
        fmt::format("WebSocket upgrade at {}{} refused: {} (HTTP {})", Describe(endpoint),
                    endpoint.ws_path, ec.message(), response.result_int()));
  }
  if (response[http::field::sec_websocket_protocol] != endpoint.ws_subprotocol) {
    co_return absl::FailedPreconditionError(
        fmt::format("the server at {} did not select the WebSocket subprotocol \"{}\"",
                    Describe(endpoint), endpoint.ws_subprotocol));
  }
  ws.binary(true);
  ws.auto_fragment(false);
  co_return absl::OkStatus();
}

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
  if (outcome.index() == 1) co_return TimedOut("connecting to", endpoint);
  const error_code connect_error = std::get<0>(std::get<0>(outcome));
  if (connect_error) {
    co_return absl::UnavailableError(
        fmt::format("cannot connect to {}: {}", Describe(endpoint), connect_error.message()));
  }
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  if (endpoint.scheme == Scheme::kTcp) co_return std::make_unique<TcpTransport>(std::move(socket));

  std::shared_ptr<ssl::context> context;
  std::unique_ptr<TlsSocket> tls;
  if (endpoint.scheme == Scheme::kTls || endpoint.scheme == Scheme::kWss) {
    absl::StatusOr<std::shared_ptr<ssl::context>> made = MakeClientContext(endpoint);
    if (!made.ok()) co_return made.status();
    context = *made;
    tls = std::make_unique<TlsSocket>(std::move(socket), *context);
    SetServerName(tls->native_handle(), endpoint);
    auto handshake =
        co_await (tls->async_handshake(ssl::stream_base::client, kUse) || timer.async_wait(kUse));
    if (handshake.index() == 1) co_return TimedOut("TLS handshake with", endpoint);
    const error_code tls_error = std::get<0>(std::get<0>(handshake));
    if (tls_error) {
      co_return absl::PermissionDeniedError(
          fmt::format("TLS handshake with {} failed: {}", Describe(endpoint), tls_error.message()));
    }
    if (endpoint.scheme == Scheme::kTls) {
      co_return std::make_unique<TlsTransport>(std::move(context), std::move(tls));
    }
    auto ws = std::make_unique<websocket::stream<TlsSocket>>(std::move(*tls));
    absl::Status upgraded = co_await Upgrade(*ws, endpoint, timer);
    if (!upgraded.ok()) co_return upgraded;
    co_return std::make_unique<WebSocketTransport<TlsSocket>>(std::move(context), std::move(ws));
  }
  auto ws = std::make_unique<websocket::stream<tcp::socket>>(std::move(socket));
  absl::Status upgraded = co_await Upgrade(*ws, endpoint, timer);
  if (!upgraded.ok()) co_return upgraded;
  co_return std::make_unique<WebSocketTransport<tcp::socket>>(nullptr, std::move(ws));
}

}  // namespace simq::client

#include "broker/net/server_stream.h"

#include "boost/asio/as_tuple.hpp"
#include "boost/asio/ssl/stream.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/http/read.hpp"
#include "boost/beast/http/string_body.hpp"
#include "boost/beast/http/write.hpp"
#include "boost/beast/websocket.hpp"
#include "boost/beast/websocket/ssl.hpp"

#include "broker/net/tls.h"
#include "broker/net/websocket_upgrade.h"

namespace simq::net {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using asio::ip::tcp;
using boost::system::error_code;
constexpr auto kUse = asio::as_tuple(asio::use_awaitable);
constexpr size_t kMaxUpgradeRequest = 8 * 1024;

using TlsSocket = ssl::stream<tcp::socket>;

class TlsStream final : public ServerStream {
 public:
  TlsStream(tcp::socket socket, StreamOptions options)
      : options_(std::move(options)), stream_(std::move(socket), *options_.tls) {}

  asio::awaitable<error_code> Handshake() override {
    auto [ec] = co_await stream_.async_handshake(ssl::stream_base::server, kUse);
    if (!ec) identity_ = CertificateIdentity(stream_.native_handle(), options_.identity);
    co_return ec;
  }
  asio::awaitable<std::pair<error_code, size_t>> ReadSome(asio::mutable_buffer buffer) override {
    auto [ec, n] = co_await stream_.async_read_some(buffer, kUse);
    co_return std::make_pair(ec, n);
  }
  asio::awaitable<error_code> Write(asio::const_buffer bytes) override {
    auto [ec, n] = co_await asio::async_write(stream_, bytes, kUse);
    co_return ec;
  }
  // close_notify, then the peer's. OpenSSL state is one engine: no read alongside.
  asio::awaitable<void> Shutdown() override { co_await stream_.async_shutdown(kUse); }
  bool shutdown_while_reading() const override { return false; }
  void CancelRead() override {
    error_code ignored;
    stream_.lowest_layer().cancel(ignored);
  }
  void Close() override {
    error_code ignored;
    stream_.lowest_layer().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.lowest_layer().close(ignored);
  }
  std::optional<std::string> certificate_username() const override { return identity_; }

 private:
  StreamOptions options_;  // holds the context the stream refers to
  TlsSocket stream_;
  std::optional<std::string> identity_;
};

template <typename Next>
class WebSocketStream final : public ServerStream {
 public:
  template <typename... Args>
  WebSocketStream(StreamOptions options, Args&&... args)
      : options_(std::move(options)), ws_(std::forward<Args>(args)...) {}

  asio::awaitable<error_code> Handshake() override {
    if constexpr (std::is_same_v<Next, TlsSocket>) {
      auto [ec] = co_await ws_.next_layer().async_handshake(ssl::stream_base::server, kUse);
      if (ec) co_return ec;
      identity_ = CertificateIdentity(ws_.next_layer().native_handle(), options_.identity);
    }
    // Read the upgrade request ourselves, to check path and subprotocol before accepting.
    beast::flat_buffer buffer(kMaxUpgradeRequest);
    http::request_parser<http::empty_body> parser;
    parser.header_limit(kMaxUpgradeRequest);
    parser.body_limit(0);
    auto [read_error, n] = co_await http::async_read(ws_.next_layer(), buffer, parser, kUse);
    if (read_error) co_return read_error;
    http::request<http::empty_body> request = parser.release();
    UpgradeDecision decision = CheckUpgrade(request, options_.ws_path);
    // A client must wait for the 101 before sending frames (RFC 6455 §4.1).
    if (decision.accept && buffer.size() != 0) {
      decision.accept = false;
      decision.status = http::status::bad_request;
      decision.reason = "data before the end of the WebSocket handshake\n";
    }
    if (!decision.accept) {
      http::response<http::string_body> response(decision.status, request.version());
      response.set(http::field::server, "simq");
      response.set(http::field::content_type, "text/plain");
      response.set(http::field::connection, "close");
      response.body() = decision.reason;
      response.prepare_payload();
      co_await http::async_write(ws_.next_layer(), response, kUse);
      co_return websocket::error::upgrade_declined;
    }
    websocket::stream_base::timeout timeouts =
        websocket::stream_base::timeout::suggested(beast::role_type::server);
    timeouts.handshake_timeout = options_.handshake_timeout;  // also bounds the close handshake
    ws_.set_option(timeouts);
    ws_.set_option(websocket::stream_base::decorator(
        [protocol = decision.subprotocol](websocket::response_type& response) {
          response.set(http::field::server, "simq");
          response.set(http::field::sec_websocket_protocol, protocol);
        }));
    ws_.read_message_max(0);  // packets are limited by the MQTT framing, not per message
    ws_.binary(true);
    ws_.auto_fragment(false);
    auto [ec] = co_await ws_.async_accept(request, kUse);
    co_return ec;
  }

  asio::awaitable<std::pair<error_code, size_t>> ReadSome(asio::mutable_buffer buffer) override {
    auto [ec, n] = co_await ws_.async_read_some(buffer, kUse);
    // [MQTT-6.0.0-1]: a text frame closes the connection.
    if (!ec && ws_.got_text()) ec = websocket::error::bad_data_frame;
    co_return std::make_pair(ec, n);
  }
  asio::awaitable<error_code> Write(asio::const_buffer bytes) override {
    auto [ec, n] = co_await ws_.async_write(bytes, kUse);
    co_return ec;
  }
  // Beast runs the close handshake alongside an outstanding read (which then ends).
  asio::awaitable<void> Shutdown() override {
    co_await ws_.async_close(websocket::close_code::normal, kUse);
  }
  bool shutdown_while_reading() const override { return true; }
  void CancelRead() override {}
  void Close() override {
    error_code ignored;
    beast::get_lowest_layer(ws_).shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws_).close(ignored);
  }
  std::optional<std::string> certificate_username() const override { return identity_; }

 private:
  StreamOptions options_;
  websocket::stream<Next> ws_;
  std::optional<std::string> identity_;
};

}  // namespace

std::unique_ptr<ServerStream> MakeServerStream(tcp::socket socket, StreamOptions options) {
  switch (options.type) {
    case config::ListenerType::kTls:
      return std::make_unique<TlsStream>(std::move(socket), std::move(options));
    case config::ListenerType::kWs: {
      auto* raw = new WebSocketStream<tcp::socket>(std::move(options), std::move(socket));
      return std::unique_ptr<ServerStream>(raw);
    }
    case config::ListenerType::kWss: {
      ssl::context& ctx = *options.tls;
      auto* raw = new WebSocketStream<TlsSocket>(std::move(options), std::move(socket), ctx);
      return std::unique_ptr<ServerStream>(raw);
    }
    case config::ListenerType::kTcp: break;
  }
  return nullptr;
}

}  // namespace simq::net

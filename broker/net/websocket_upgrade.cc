#include "broker/net/websocket_upgrade.h"

#include "boost/beast/websocket/rfc6455.hpp"

namespace simq::net {

namespace http = boost::beast::http;

namespace {

std::string_view Trim(std::string_view s) {
  const size_t begin = s.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(" \t") - begin + 1);
}

}  // namespace

UpgradeDecision CheckUpgrade(const http::request<http::empty_body>& request,
                             std::string_view path) {
  UpgradeDecision d;
  if (!boost::beast::websocket::is_upgrade(request)) {
    d.status = http::status::upgrade_required;
    d.reason = "MQTT over WebSocket: send a WebSocket upgrade request\n";
    return d;
  }
  std::string_view target(request.target().data(), request.target().size());
  target = target.substr(0, target.find('?'));
  if (target != path) {
    d.status = http::status::not_found;
    d.reason = "no MQTT endpoint at this path\n";
    return d;
  }
  // Sec-WebSocket-Protocol may come as several headers, each a comma-separated list.
  bool mqtt = false;
  bool mqtt31 = false;
  auto [first, last] = request.equal_range(http::field::sec_websocket_protocol);
  for (auto it = first; it != last; ++it) {
    std::string_view list(it->value().data(), it->value().size());
    for (size_t start = 0; start <= list.size();) {
      size_t end = list.find(',', start);
      if (end == std::string_view::npos) end = list.size();
      const std::string_view name = Trim(list.substr(start, end - start));
      mqtt = mqtt || name == "mqtt";
      mqtt31 = mqtt31 || name == "mqttv3.1";
      start = end + 1;
    }
  }
  if (!mqtt && !mqtt31) {
    // [MQTT-6.0.0-3]/[MQTT-6.0.0-4]: the subprotocol must be "mqtt".
    d.status = http::status::bad_request;
    d.reason = "the WebSocket subprotocol must be \"mqtt\" (Sec-WebSocket-Protocol: mqtt)\n";
    return d;
  }
  d.accept = true;
  d.subprotocol = mqtt ? "mqtt" : "mqttv3.1";
  return d;
}

}  // namespace simq::net

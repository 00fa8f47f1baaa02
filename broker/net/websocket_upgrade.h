// Whether to accept a WebSocket upgrade request as MQTT over WebSocket (MQTT 5 §6,
// MQTT 3.1.1 §6): a GET upgrade on the listener's path (ws_path) that offers the "mqtt"
// subprotocol (or "mqttv3.1", the name MQTT 3.1 clients used).
//
//   UpgradeDecision d = CheckUpgrade(request, "/mqtt");
//   d.accept ? accept, answering with Sec-WebSocket-Protocol: d.subprotocol
//            : answer HTTP d.status with d.reason and close
//
// Pure function.
#pragma once

#include <string>
#include <string_view>

#include "boost/beast/http/empty_body.hpp"
#include "boost/beast/http/message.hpp"
#include "boost/beast/http/status.hpp"

namespace simq::net {

struct UpgradeDecision {
  bool accept = false;
  boost::beast::http::status status = boost::beast::http::status::bad_request;
  std::string subprotocol;  // when accepted
  std::string reason;       // when refused: the response body
};

UpgradeDecision CheckUpgrade(
    const boost::beast::http::request<boost::beast::http::empty_body>& request,
    std::string_view path);

}  // namespace simq::net

#include "broker/net/websocket_upgrade.h"

#include <string>

#include "boost/beast/http/field.hpp"
#include "boost/beast/http/verb.hpp"
#include "gtest/gtest.h"

namespace simq::net {
namespace {

namespace http = boost::beast::http;
using Request = http::request<http::empty_body>;

// An upgrade request as browsers and MQTT.js send it.
Request Upgrade(std::string target, std::string protocols) {
  Request r(http::verb::get, target, 11);
  r.set(http::field::host, "broker.example:8080");
  r.set(http::field::upgrade, "websocket");
  r.set(http::field::connection, "Upgrade");
  r.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
  r.set(http::field::sec_websocket_version, "13");
  if (!protocols.empty()) r.set(http::field::sec_websocket_protocol, protocols);
  return r;
}

TEST(WebSocketUpgradeTest, AcceptsMqttOnTheConfiguredPath) {
  UpgradeDecision d = CheckUpgrade(Upgrade("/mqtt", "mqtt"), "/mqtt");
  EXPECT_TRUE(d.accept);
  EXPECT_EQ(d.subprotocol, "mqtt");
  // A query string is not part of the path.
  d = CheckUpgrade(Upgrade("/ws?clientId=x", "mqtt"), "/ws");
  EXPECT_TRUE(d.accept);
}

TEST(WebSocketUpgradeTest, PicksMqttFromAListAndAcceptsMqtt31) {
  UpgradeDecision d = CheckUpgrade(Upgrade("/mqtt", "wamp, mqtt ,mqttv3.1"), "/mqtt");
  EXPECT_TRUE(d.accept);
  EXPECT_EQ(d.subprotocol, "mqtt");
  d = CheckUpgrade(Upgrade("/mqtt", "mqttv3.1"), "/mqtt");
  EXPECT_TRUE(d.accept);
  EXPECT_EQ(d.subprotocol, "mqttv3.1");
  // Several Sec-WebSocket-Protocol headers count as one list.
  Request r = Upgrade("/mqtt", "chat");
  r.insert(http::field::sec_websocket_protocol, "mqtt");
  d = CheckUpgrade(r, "/mqtt");
  EXPECT_TRUE(d.accept);
  EXPECT_EQ(d.subprotocol, "mqtt");
}

TEST(WebSocketUpgradeTest, RefusesAWrongOrMissingSubprotocol) {
  for (const char* protocols : {"", "chat", "MQTT", "mqttv5", "mqt"}) {
    UpgradeDecision d = CheckUpgrade(Upgrade("/mqtt", protocols), "/mqtt");
    EXPECT_FALSE(d.accept) << protocols;
    EXPECT_EQ(d.status, http::status::bad_request) << protocols;
    EXPECT_NE(d.reason.find("subprotocol"), std::string::npos) << d.reason;
  }
}

TEST(WebSocketUpgradeTest, RefusesAnotherPath) {
  for (const char* target : {"/", "/mqtt/", "/MQTT", "/mqtt2"}) {
    UpgradeDecision d = CheckUpgrade(Upgrade(target, "mqtt"), "/mqtt");
    EXPECT_FALSE(d.accept) << target;
    EXPECT_EQ(d.status, http::status::not_found) << target;
  }
}

TEST(WebSocketUpgradeTest, RefusesPlainHttp) {
  Request r(http::verb::get, "/mqtt", 11);
  r.set(http::field::host, "broker.example");
  UpgradeDecision d = CheckUpgrade(r, "/mqtt");
  EXPECT_FALSE(d.accept);
  EXPECT_EQ(d.status, http::status::upgrade_required);
  // Not GET: not an upgrade either.
  Request post = Upgrade("/mqtt", "mqtt");
  post.method(http::verb::post);
  EXPECT_FALSE(CheckUpgrade(post, "/mqtt").accept);
}

}  // namespace
}  // namespace simq::net

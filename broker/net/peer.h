// What a connection knows about its client before MQTT starts: fixed when it is accepted (and
// its PROXY header read), carried along when it moves to its session's home worker.
#pragma once

#include <optional>
#include <string>

#include "broker/net/connection_limits.h"
#include "broker/protocol/reason_code.h"

namespace simq::net {

struct Peer {
  std::string listener;        // the listener's name
  std::string remote_address;  // "ip:port": the PROXY protocol source when the listener uses it
  // A listener limit refused this client: its CONNECT is answered with this (Link::admission).
  protocol::ReasonCode admission = protocol::ReasonCode::kSuccess;
  ConnectionSlot slot;  // its count against the per-address limit, released with the connection
  std::optional<std::string> certificate_username;  // TLS: identity_as_username
};

}  // namespace simq::net

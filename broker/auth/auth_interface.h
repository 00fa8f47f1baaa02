// Authentication and authorization seams the broker core calls. Concrete methods (password
// file, SCRAM-SHA-256, ACL file) implement these; `AllowAll` is the default.
//
//   std::unique_ptr<AuthExchange> x = authenticator.StartExchange("SCRAM-SHA-256", client);
//   if (!x) → CONNACK 0x8C Bad authentication method
//   AuthStep step = x->Next(client_first_message);   // kContinueAuthentication + server data
//
// Threads: implementations must be thread-safe; the broker may call them from any worker or
// from a blocking-work thread (slow password hashes must not stall an event loop).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "broker/protocol/reason_code.h"
#include "broker/protocol/types.h"

namespace simq::auth {

// Who is asking: fixed once CONNECT is accepted (the user name may come from a certificate).
struct ClientInfo {
  std::string client_id;
  std::optional<std::string> username;
  std::string listener;        // listener name
  std::string remote_address;  // "ip:port" (after PROXY protocol, if any)
  // The user name comes from a TLS client certificate the listener verified (listener option
  // identity_as_username): the certificate authenticated the client, not a password.
  bool certificate_authenticated = false;
  protocol::ProtocolVersion version = protocol::ProtocolVersion::kMqtt5;
};

// One step of an enhanced authentication exchange (MQTT 5 §4.12).
struct AuthStep {
  // kSuccess: authenticated (data, if any, goes in CONNACK/AUTH as Authentication Data);
  // kContinueAuthentication: send `data` in AUTH 0x18 and wait for the client's answer;
  // an error code (0x86, 0x87, 0x8C, ...): refuse.
  protocol::ReasonCode code = protocol::ReasonCode::kNotAuthorized;
  std::string data;
};

// One conversation of one authentication method, for one connection.
class AuthExchange {
 public:
  virtual ~AuthExchange() = default;
  // Feeds the client's Authentication Data (from CONNECT, then from each AUTH).
  virtual AuthStep Next(std::string_view client_data) = 0;
  // The user name the exchange authenticated, when it establishes one.
  virtual std::optional<std::string> username() const { return std::nullopt; }
};

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // CONNECT without an Authentication Method: user name and password (either may be absent).
  // kSuccess, or the refusal: kBadUserNameOrPassword, kNotAuthorized, kBanned.
  virtual protocol::ReasonCode CheckPassword(const ClientInfo& client,
                                             std::optional<std::string_view> password) = 0;
  // A new exchange for `method`, or nullptr if the method is not supported (→ 0x8C).
  virtual std::unique_ptr<AuthExchange> StartExchange(std::string_view method,
                                                      const ClientInfo& client) = 0;
  // True if CheckPassword may take long (slow hashes, I/O): the broker then calls it on a
  // blocking-work thread and resumes the CONNECT on its worker (docs/security.md).
  virtual bool password_check_blocks() const { return false; }
};

class Authorizer {
 public:
  virtual ~Authorizer() = default;
  virtual bool CanPublish(const ClientInfo& client, std::string_view topic) = 0;
  // `filter` as the client sent it (a "$share/..." filter included).
  virtual bool CanSubscribe(const ClientInfo& client, std::string_view filter) = 0;
};

// Accepts every CONNECT, supports no enhanced authentication method, allows everything.
class AllowAll final : public Authenticator, public Authorizer {
 public:
  protocol::ReasonCode CheckPassword(const ClientInfo&, std::optional<std::string_view>) override {
    return protocol::ReasonCode::kSuccess;
  }
  std::unique_ptr<AuthExchange> StartExchange(std::string_view, const ClientInfo&) override {
    return nullptr;
  }
  bool CanPublish(const ClientInfo&, std::string_view) override { return true; }
  bool CanSubscribe(const ClientInfo&, std::string_view) override { return true; }
};

}  // namespace simq::auth

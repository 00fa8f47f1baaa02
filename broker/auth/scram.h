// SCRAM-SHA-256 (RFC 5802 with RFC 7677's hash) as an MQTT 5 enhanced authentication method
// (Authentication Method "SCRAM-SHA-256"), server and client side.
//
// Over MQTT 5 (§4.12) the SASL messages travel as Authentication Data:
//   CONNECT   method SCRAM-SHA-256, data client-first   "n,,n=alice,r=<client nonce>"
//   AUTH 0x18 data server-first                         "r=<nonce>,s=<salt>,i=4096"
//   AUTH 0x18 data client-final                         "c=biws,r=<nonce>,p=<proof>"
//   CONNACK   data server-final                         "v=<server signature>"
// and the same with AUTH 0x19 … AUTH 0x00 for re-authentication (§4.12.1).
//
//   ScramClient client("alice", "s3cret");
//   std::string first = client.FirstMessage();
//   absl::StatusOr<std::string> final = client.FinalMessage(server_first);
//   absl::Status ok = client.VerifyServerFinal(server_final);
//
// The server never sees the password: the password file stores, per user, the salt, the
// iteration count, StoredKey and ServerKey (RFC 5802 §3), as written by //broker/auth:passwd.
// Channel binding ("p=") and authorization identities ("a=") are not supported and refused.
// User names are compared as given (no SASLprep).
//
// Thread: an exchange belongs to one connection; ScramClient to one caller. Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "broker/auth/auth_interface.h"

namespace simq::auth {

inline constexpr std::string_view kScramSha256 = "SCRAM-SHA-256";

// What the server keeps for one user (RFC 5802 §3).
struct ScramCredentials {
  uint32_t iterations = 4096;
  std::string salt;
  std::string stored_key;
  std::string server_key;

  friend bool operator==(const ScramCredentials&, const ScramCredentials&) = default;
};

// Derives a user's credentials from the password (PBKDF2-HMAC-SHA-256, then the keys).
ScramCredentials MakeScramCredentials(std::string_view password, std::string_view salt,
                                      uint32_t iterations);
// "$scram-sha-256$<iterations>$<salt>$<StoredKey>$<ServerKey>", base64 with padding.
std::string EncodeScramCredentials(const ScramCredentials& credentials);
absl::StatusOr<ScramCredentials> DecodeScramCredentials(std::string_view encoded);

// The server side of one exchange.
class ScramServerExchange final : public AuthExchange {
 public:
  // The credentials of a user, nullopt if there is no such user.
  using Lookup = std::function<std::optional<ScramCredentials>(std::string_view user)>;
  // Called once with the outcome when the exchange ends (failed-authentication throttling).
  using Outcome = std::function<void(bool success)>;

  // `required_user`: when set (the CONNECT's user name, or the user of the connection being
  // re-authenticated) the SCRAM user must be the same. `secret` keys the fake salt given for
  // unknown users, so that they look like real ones. `server_nonce` is for tests.
  ScramServerExchange(Lookup lookup, std::optional<std::string> required_user, std::string secret,
                      Outcome outcome = nullptr, std::string server_nonce = {});

  AuthStep Next(std::string_view client_data) override;
  std::optional<std::string> username() const override { return user_; }

 private:
  AuthStep Fail();
  AuthStep First(std::string_view message);
  AuthStep Final(std::string_view message);

  Lookup lookup_;
  std::optional<std::string> required_user_;
  std::string secret_;
  Outcome outcome_;
  std::string server_nonce_;
  int round_ = 0;
  std::string gs2_header_;
  std::string client_first_bare_;
  std::string server_first_;
  std::string nonce_;
  std::optional<ScramCredentials> credentials_;  // nullopt: unknown user, the proof fails
  std::optional<std::string> user_;              // set once authenticated
  std::string candidate_user_;
};

// The client side, for tests, the bridge and the load generator.
class ScramClient {
 public:
  ScramClient(std::string user, std::string password, std::string client_nonce = {});

  // "n,,n=<user>,r=<nonce>"
  std::string FirstMessage();
  // The answer to the server's first message: "c=biws,r=<nonce>,p=<proof>".
  absl::StatusOr<std::string> FinalMessage(std::string_view server_first);
  // Checks the server's signature ("v=..."): proves the server knows the credentials.
  absl::Status VerifyServerFinal(std::string_view server_final) const;

 private:
  std::string user_;
  std::string password_;
  std::string client_nonce_;
  std::string client_first_bare_;
  std::string expected_server_signature_;
};

}  // namespace simq::auth

#include "broker/auth/scram.h"

#include <charconv>
#include <vector>

#include <openssl/evp.h>

#include "fmt/format.h"

#include "broker/auth/crypto.h"

namespace simq::auth {
namespace {

using protocol::ReasonCode;

constexpr size_t kKeyBytes = 32;  // SHA-256
constexpr size_t kNonceBytes = 18;

std::vector<std::string_view> SplitAttributes(std::string_view message) {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    const size_t end = message.find(',', start);
    parts.push_back(message.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

// The value of attribute `name` ("n=value"), if `part` is that attribute.
std::optional<std::string_view> Attribute(std::string_view part, char name) {
  if (part.size() < 2 || part[0] != name || part[1] != '=') return std::nullopt;
  return part.substr(2);
}

// RFC 5802 §5.1: "=2C" and "=3D" stand for ',' and '='; any other '=' is an error.
std::optional<std::string> DecodeSaslName(std::string_view name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    if (name[i] != '=') {
      out += name[i];
    } else if (name.substr(i, 3) == "=2C") {
      out += ',';
      i += 2;
    } else if (name.substr(i, 3) == "=3D") {
      out += '=';
      i += 2;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

std::string EncodeSaslName(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == ',') {
      out += "=2C";
    } else if (c == '=') {
      out += "=3D";
    } else {
      out += c;
    }
  }
  return out;
}

// Printable ASCII except ',' (RFC 5802 "printable").
bool ValidNonce(std::string_view nonce) {
  if (nonce.empty()) return false;
  for (char c : nonce) {
    if (c < 0x21 || c > 0x7e || c == ',') return false;
  }
  return true;
}

std::string Xor(std::string_view a, std::string_view b) {
  std::string out(a.size(), '\0');
  for (size_t i = 0; i < a.size(); ++i) out[i] = static_cast<char>(a[i] ^ b[i]);
  return out;
}

std::string MakeNonce() {
  // Base64 is printable and has no ','.
  return Base64Encode(RandomBytes(kNonceBytes));
}

}  // namespace

ScramCredentials MakeScramCredentials(std::string_view password, std::string_view salt,
                                      uint32_t iterations) {
  const std::string salted = Pbkdf2(EVP_sha256(), password, salt, iterations, kKeyBytes);
  ScramCredentials c;
  c.iterations = iterations;
  c.salt = std::string(salt);
  c.stored_key = Sha256(HmacSha256(salted, "Client Key"));
  c.server_key = HmacSha256(salted, "Server Key");
  return c;
}

std::string EncodeScramCredentials(const ScramCredentials& c) {
  return fmt::format("$scram-sha-256${}${}${}${}", c.iterations, Base64Encode(c.salt),
                     Base64Encode(c.stored_key), Base64Encode(c.server_key));
}

absl::StatusOr<ScramCredentials> DecodeScramCredentials(std::string_view encoded) {
  constexpr std::string_view kPrefix = "$scram-sha-256$";
  auto bad = [] {
    return absl::InvalidArgumentError(
        "bad SCRAM-SHA-256 entry (expected $scram-sha-256$<iterations>$<salt>$<StoredKey>$"
        "<ServerKey>)");
  };
  if (!encoded.starts_with(kPrefix)) return bad();
  std::vector<std::string_view> parts;
  std::string_view rest = encoded.substr(kPrefix.size());
  for (size_t start = 0;;) {
    const size_t end = rest.find('$', start);
    parts.push_back(rest.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  if (parts.size() != 4) return bad();
  ScramCredentials c;
  const auto [end, error] =
      std::from_chars(parts[0].data(), parts[0].data() + parts[0].size(), c.iterations);
  if (error != std::errc() || end != parts[0].data() + parts[0].size() || c.iterations < 1) {
    return bad();
  }
  std::optional<std::string> salt = Base64Decode(parts[1]);
  std::optional<std::string> stored = Base64Decode(parts[2]);
  std::optional<std::string> server = Base64Decode(parts[3]);
  if (!salt || salt->empty() || !stored || stored->size() != kKeyBytes || !server ||
      server->size() != kKeyBytes) {
    return bad();
  }
  c.salt = std::move(*salt);
  c.stored_key = std::move(*stored);
  c.server_key = std::move(*server);
  return c;
}

// ---------------------------------------------------------------------------------------------
// Server

ScramServerExchange::ScramServerExchange(Lookup lookup, std::optional<std::string> required_user,
                                         std::string secret, Outcome outcome,
                                         std::string server_nonce)
    : lookup_(std::move(lookup)),
      required_user_(std::move(required_user)),
      secret_(std::move(secret)),
      outcome_(std::move(outcome)),
      server_nonce_(server_nonce.empty() ? MakeNonce() : std::move(server_nonce)) {}

AuthStep ScramServerExchange::Fail() {
  round_ = 2;
  user_.reset();
  if (outcome_) std::exchange(outcome_, nullptr)(false);
  AuthStep step;
  step.code = ReasonCode::kNotAuthorized;
  return step;
}

AuthStep ScramServerExchange::Next(std::string_view client_data) {
  switch (round_++) {
    case 0: return First(client_data);
    case 1: return Final(client_data);
    default: return Fail();
  }
}

AuthStep ScramServerExchange::First(std::string_view message) {
  // gs2-header: "n," or "y," (no channel binding), then an empty authzid, then ",".
  if (!(message.starts_with("n,,") || message.starts_with("y,,"))) return Fail();
  gs2_header_ = std::string(message.substr(0, 3));
  client_first_bare_ = std::string(message.substr(3));
  std::vector<std::string_view> parts = SplitAttributes(client_first_bare_);
  if (parts.size() < 2) return Fail();
  std::optional<std::string_view> name = Attribute(parts[0], 'n');
  std::optional<std::string_view> nonce = Attribute(parts[1], 'r');
  if (!name || !nonce || !ValidNonce(*nonce)) return Fail();
  // A mandatory extension we do not know ("m=") must fail the exchange (RFC 5802 §5.1).
  if (Attribute(parts[0], 'm')) return Fail();
  std::optional<std::string> user = DecodeSaslName(*name);
  if (!user || user->empty()) return Fail();
  if (required_user_ && *required_user_ != *user) return Fail();
  candidate_user_ = std::move(*user);
  credentials_ = lookup_(candidate_user_);
  ScramCredentials shown;
  if (credentials_) {
    shown = *credentials_;
  } else {
    // An unknown user gets a stable fake salt and fails at the proof, like a wrong password.
    shown.salt = HmacSha256(secret_, candidate_user_).substr(0, 16);
  }
  nonce_ = fmt::format("{}{}", *nonce, server_nonce_);
  server_first_ = fmt::format("r={},s={},i={}", nonce_, Base64Encode(shown.salt), shown.iterations);
  AuthStep step;
  step.code = ReasonCode::kContinueAuthentication;
  step.data = server_first_;
  return step;
}

AuthStep ScramServerExchange::Final(std::string_view message) {
  // "c=<base64 gs2-header>,r=<nonce>[,extensions],p=<proof>"
  const size_t proof_at = message.rfind(",p=");
  if (proof_at == std::string_view::npos) return Fail();
  const std::string_view without_proof = message.substr(0, proof_at);
  std::vector<std::string_view> parts = SplitAttributes(without_proof);
  if (parts.size() < 2) return Fail();
  std::optional<std::string_view> binding = Attribute(parts[0], 'c');
  std::optional<std::string_view> nonce = Attribute(parts[1], 'r');
  if (!binding || *binding != Base64Encode(gs2_header_) || !nonce || *nonce != nonce_) {
    return Fail();
  }
  std::optional<std::string> proof = Base64Decode(message.substr(proof_at + 3));
  if (!proof || proof->size() != kKeyBytes || !credentials_) return Fail();
  const std::string auth_message =
      fmt::format("{},{},{}", client_first_bare_, server_first_, without_proof);
  const std::string client_key = Xor(*proof, HmacSha256(credentials_->stored_key, auth_message));
  if (!ConstantTimeEqual(Sha256(client_key), credentials_->stored_key)) return Fail();
  round_ = 2;
  user_ = candidate_user_;
  if (outcome_) std::exchange(outcome_, nullptr)(true);
  AuthStep step;
  step.code = ReasonCode::kSuccess;
  step.data = "v=" + Base64Encode(HmacSha256(credentials_->server_key, auth_message));
  return step;
}

// ---------------------------------------------------------------------------------------------
// Client

ScramClient::ScramClient(std::string user, std::string password, std::string client_nonce)
    : user_(std::move(user)),
      password_(std::move(password)),
      client_nonce_(client_nonce.empty() ? MakeNonce() : std::move(client_nonce)) {}

std::string ScramClient::FirstMessage() {
  client_first_bare_ = fmt::format("n={},r={}", EncodeSaslName(user_), client_nonce_);
  return "n,," + client_first_bare_;
}

absl::StatusOr<std::string> ScramClient::FinalMessage(std::string_view server_first) {
  std::vector<std::string_view> parts = SplitAttributes(server_first);
  if (parts.size() < 3) return absl::InvalidArgumentError("malformed SCRAM server-first-message");
  std::optional<std::string_view> nonce = Attribute(parts[0], 'r');
  std::optional<std::string_view> salt64 = Attribute(parts[1], 's');
  std::optional<std::string_view> iterations_text = Attribute(parts[2], 'i');
  if (!nonce || !nonce->starts_with(client_nonce_) || nonce->size() == client_nonce_.size() ||
      !salt64 || !iterations_text) {
    return absl::InvalidArgumentError("malformed SCRAM server-first-message");
  }
  std::optional<std::string> salt = Base64Decode(*salt64);
  uint32_t iterations = 0;
  const auto [end, error] = std::from_chars(
      iterations_text->data(), iterations_text->data() + iterations_text->size(), iterations);
  if (!salt || error != std::errc() || iterations == 0) {
    return absl::InvalidArgumentError("malformed SCRAM salt or iteration count");
  }
  const std::string salted = Pbkdf2(EVP_sha256(), password_, *salt, iterations, kKeyBytes);
  const std::string client_key = HmacSha256(salted, "Client Key");
  const std::string without_proof = fmt::format("c={},r={}", Base64Encode("n,,"), *nonce);
  const std::string auth_message =
      fmt::format("{},{},{}", client_first_bare_, server_first, without_proof);
  const std::string proof = Xor(client_key, HmacSha256(Sha256(client_key), auth_message));
  expected_server_signature_ = HmacSha256(HmacSha256(salted, "Server Key"), auth_message);
  return fmt::format("{},p={}", without_proof, Base64Encode(proof));
}

absl::Status ScramClient::VerifyServerFinal(std::string_view server_final) const {
  std::optional<std::string_view> signature = Attribute(server_final, 'v');
  if (!signature) {
    return absl::PermissionDeniedError(
        fmt::format("SCRAM server-final-message is not a signature: {}", server_final));
  }
  std::optional<std::string> decoded = Base64Decode(*signature);
  if (!decoded || expected_server_signature_.empty() ||
      !ConstantTimeEqual(*decoded, expected_server_signature_)) {
    return absl::PermissionDeniedError("the server's SCRAM signature is wrong");
  }
  return absl::OkStatus();
}

}  // namespace simq::auth

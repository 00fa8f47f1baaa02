#include "broker/auth/password_hash.h"

#include <charconv>
#include <vector>

#include <argon2.h>
#include <openssl/evp.h>

#include "fmt/format.h"

#include "broker/auth/crypto.h"

namespace simq::auth {
namespace {

constexpr std::string_view kArgon2idPrefix = "$argon2id$";
constexpr std::string_view kPbkdf2Prefix = "$7$";
constexpr size_t kSaltBytes = 16;
constexpr size_t kArgon2HashBytes = 32;
constexpr size_t kPbkdf2HashBytes = 64;  // SHA-512, as Mosquitto

std::vector<std::string_view> Split(std::string_view s, char separator) {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    const size_t end = s.find(separator, start);
    parts.push_back(s.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

struct Pbkdf2Hash {
  uint32_t iterations = 0;
  std::string salt;
  std::string hash;
};

absl::StatusOr<Pbkdf2Hash> ParsePbkdf2(std::string_view encoded) {
  // "$7$<iterations>$<base64 salt>$<base64 hash>"
  std::vector<std::string_view> parts = Split(encoded, '$');
  if (parts.size() != 5 || !parts[0].empty() || parts[1] != "7") {
    return absl::InvalidArgumentError("not a $7$<iterations>$<salt>$<hash> PBKDF2-SHA512 hash");
  }
  Pbkdf2Hash h;
  const auto [end, error] =
      std::from_chars(parts[2].data(), parts[2].data() + parts[2].size(), h.iterations);
  if (error != std::errc() || end != parts[2].data() + parts[2].size() || h.iterations == 0) {
    return absl::InvalidArgumentError("bad PBKDF2 iteration count");
  }
  std::optional<std::string> salt = Base64Decode(parts[3]);
  std::optional<std::string> hash = Base64Decode(parts[4]);
  if (!salt || salt->empty() || !hash || hash->size() != kPbkdf2HashBytes) {
    return absl::InvalidArgumentError("bad PBKDF2 salt or hash encoding");
  }
  h.salt = std::move(*salt);
  h.hash = std::move(*hash);
  return h;
}

}  // namespace

absl::StatusOr<std::string> HashPassword(std::string_view password, HashScheme scheme,
                                         const HashCost& cost) {
  const std::string salt = RandomBytes(kSaltBytes);
  if (scheme == HashScheme::kPbkdf2Sha512) {
    const std::string hash =
        Pbkdf2(EVP_sha512(), password, salt, cost.pbkdf2_iterations, kPbkdf2HashBytes);
    return fmt::format("$7${}${}${}", cost.pbkdf2_iterations, Base64Encode(salt),
                       Base64Encode(hash));
  }
  std::string encoded(argon2_encodedlen(cost.argon2_passes, cost.argon2_memory_kib,
                                        cost.argon2_lanes, kSaltBytes, kArgon2HashBytes, Argon2_id),
                      '\0');
  const int rc = argon2id_hash_encoded(
      cost.argon2_passes, cost.argon2_memory_kib, cost.argon2_lanes, password.data(),
      password.size(), salt.data(), salt.size(), kArgon2HashBytes, encoded.data(), encoded.size());
  if (rc != ARGON2_OK) {
    return absl::InternalError(fmt::format("argon2id: {}", argon2_error_message(rc)));
  }
  encoded.resize(encoded.find('\0'));
  return encoded;
}

bool VerifyPassword(std::string_view password, std::string_view encoded) {
  if (encoded.starts_with(kArgon2idPrefix)) {
    const std::string terminated(encoded);
    return argon2id_verify(terminated.c_str(), password.data(), password.size()) == ARGON2_OK;
  }
  if (encoded.starts_with(kPbkdf2Prefix)) {
    absl::StatusOr<Pbkdf2Hash> h = ParsePbkdf2(encoded);
    if (!h.ok()) return false;
    return ConstantTimeEqual(Pbkdf2(EVP_sha512(), password, h->salt, h->iterations, h->hash.size()),
                             h->hash);
  }
  return false;
}

absl::Status CheckHashFormat(std::string_view encoded) {
  if (encoded.starts_with(kArgon2idPrefix)) {
    // "$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>", base64 without padding.
    // Checked by shape only: decoding it through libargon2 would cost a whole hash per entry.
    std::vector<std::string_view> parts = Split(encoded, '$');
    auto b64 = [](std::string_view s) {
      return !s.empty() && s.find_first_not_of(
                               "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                               "0123456789+/") == std::string_view::npos;
    };
    bool ok = parts.size() == 6 && parts[2] == "v=19";
    if (ok) {
      std::vector<std::string_view> costs = Split(parts[3], ',');
      ok = costs.size() == 3 && costs[0].starts_with("m=") && costs[1].starts_with("t=") &&
           costs[2].starts_with("p=");
      for (size_t i = 0; ok && i < costs.size(); ++i) {
        std::string_view digits = costs[i].substr(2);
        ok = !digits.empty() && digits.size() <= 9 &&
             digits.find_first_not_of("0123456789") == std::string_view::npos;
      }
      ok = ok && b64(parts[4]) && b64(parts[5]);
    }
    if (ok) return absl::OkStatus();
    return absl::InvalidArgumentError(
        "bad argon2id hash (expected $argon2id$v=19$m=...,t=...,p=...$salt$hash)");
  }
  if (encoded.starts_with(kPbkdf2Prefix)) return ParsePbkdf2(encoded).status();
  if (encoded.starts_with("$6$")) {
    return absl::InvalidArgumentError(
        "$6$ (salted SHA-512, one round) is too fast to resist guessing; re-create the entry "
        "with //broker/auth:passwd");
  }
  return absl::InvalidArgumentError("unknown hash format (expected $argon2id$ or $7$)");
}

}  // namespace simq::auth

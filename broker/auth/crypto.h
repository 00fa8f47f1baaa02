// Small wrappers over OpenSSL's primitives for the password and SCRAM code: random bytes,
// base64, SHA-256, HMAC-SHA-256, PBKDF2 and a constant-time comparison.
//
//   std::string salt = RandomBytes(16);
//   std::string key = Pbkdf2(EVP_sha256(), "pencil", salt, 4096, 32);
//   std::string text = Base64Encode(key);
//
// Thread-safe: no state of its own.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

using EVP_MD = struct evp_md_st;

namespace simq::auth {

// Cryptographically random bytes (OpenSSL's RAND_bytes).
std::string RandomBytes(size_t n);

// Standard base64 with padding (RFC 4648 §4), as SCRAM and the password file use it.
std::string Base64Encode(std::string_view bytes);
// nullopt if `text` is not valid padded base64.
std::optional<std::string> Base64Decode(std::string_view text);

std::string Sha256(std::string_view data);
std::string HmacSha256(std::string_view key, std::string_view data);
// PBKDF2 (RFC 8018) with HMAC over `digest`.
std::string Pbkdf2(const EVP_MD* digest, std::string_view password, std::string_view salt,
                   uint32_t iterations, size_t length);

// Compares without an early exit, so that timing tells nothing about where secrets differ.
bool ConstantTimeEqual(std::string_view a, std::string_view b);

}  // namespace simq::auth

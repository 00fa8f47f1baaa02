// Salted, deliberately slow password hashes for the password file.
//
//   absl::StatusOr<std::string> h = HashPassword("s3cret", HashScheme::kArgon2id);
//   // "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>"
//   bool ok = VerifyPassword("s3cret", *h);
//
// Two schemes, both self-describing (the parameters travel in the string, so they can be raised
// later without invalidating existing entries):
//   * argon2id (RFC 9106) through Debian's libargon2, the default: 19 MiB, 2 passes, 1 lane,
//     OWASP's recommended minimum. About 30 ms per check on one core (docs/security.md).
//   * PBKDF2-HMAC-SHA512 in Mosquitto's "$7$<iterations>$<salt>$<hash>" layout, so files
//     written by mosquitto_passwd load as they are. New entries use 210,000 iterations.
//
// Thread-safe. Slow on purpose: the broker runs verification off its event loops.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace simq::auth {

enum class HashScheme { kArgon2id, kPbkdf2Sha512 };

struct HashCost {
  uint32_t argon2_memory_kib = 19 * 1024;
  uint32_t argon2_passes = 2;
  uint32_t argon2_lanes = 1;
  uint32_t pbkdf2_iterations = 210'000;
};

absl::StatusOr<std::string> HashPassword(std::string_view password, HashScheme scheme,
                                         const HashCost& cost = {});

// Whether `password` matches `encoded`; false also for an encoding CheckHashFormat refuses.
bool VerifyPassword(std::string_view password, std::string_view encoded);

// OK if `encoded` is a hash VerifyPassword understands, else why not (for file loading).
absl::Status CheckHashFormat(std::string_view encoded);

}  // namespace simq::auth

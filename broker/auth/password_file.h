// The password file: users with salted slow password hashes and SCRAM-SHA-256 credentials.
//
//   # comment
//   alice:$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>:$scram-sha-256$4096$<salt>$<StoredKey>$<ServerKey>
//   bob:$7$101$<salt>$<hash>                     (as mosquitto_passwd writes it)
//
// One user per line: the name, ':', then one or more credentials separated by ':' — a password
// hash (password_hash.h) and, optionally, SCRAM-SHA-256 credentials (scram.h). A user without
// SCRAM credentials cannot use SCRAM. Names may not contain ':' or line breaks.
// //broker/auth:passwd writes it (0600, replaced atomically); the broker reads it at start and
// on SIGHUP.
//
// A PasswordFile is a value: built once, then read from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "broker/auth/scram.h"

namespace simq::auth {

struct PasswordEntry {
  std::string password_hash;              // "" when the user has SCRAM credentials only
  std::optional<ScramCredentials> scram;  // for SCRAM-SHA-256
};

class PasswordFile {
 public:
  // Errors name `source` and the line: "users.txt:3: bad argon2id hash ...".
  static absl::StatusOr<PasswordFile> Parse(std::string_view text, std::string_view source);
  static absl::StatusOr<PasswordFile> Load(const std::string& path);

  const PasswordEntry* Find(std::string_view user) const;
  // Adds or replaces `user`, keeping the order of the file.
  void Set(const std::string& user, PasswordEntry entry);
  bool Remove(std::string_view user);
  size_t size() const { return users_.size(); }

  std::string Format() const;
  // Writes a temporary file beside `path` (mode 0600) and renames it over `path`.
  absl::Status Save(const std::string& path) const;

 private:
  std::vector<std::string> order_;
  absl::flat_hash_map<std::string, PasswordEntry> users_;
};

// OK if `user` can be written to a password file.
absl::Status ValidateUserName(std::string_view user);

}  // namespace simq::auth

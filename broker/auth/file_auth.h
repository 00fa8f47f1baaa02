// The broker's own authentication and authorization, configured by [auth] and the listeners:
//
//   FileAuthenticator: the password file (password_file.h), anonymous access per listener,
//     TLS client certificates as identities, SCRAM-SHA-256 enhanced authentication (scram.h),
//     failed-authentication throttling per address (throttle.h).
//   AclAuthorizer: the ACL file (acl.h).
//
//   absl::StatusOr<std::shared_ptr<FileAuthenticator>> a = FileAuthenticator::Create(config,
//   clock);
//   ...
//   a->Reload();   // SIGHUP: re-reads the password file; on error the previous one stays
//
// Both are thread-safe: the files are immutable snapshots swapped whole on reload (STYLE §22);
// every call works on the snapshot it started with.
#pragma once

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

#include "broker/auth/acl.h"
#include "broker/auth/auth_interface.h"
#include "broker/auth/password_file.h"
#include "broker/auth/throttle.h"
#include "broker/base/clock.h"
#include "broker/config/config.h"

namespace simq::auth {

class FileAuthenticator final : public Authenticator {
 public:
  // Reads auth.password_file (if set); an unreadable or malformed file is an error.
  static absl::StatusOr<std::shared_ptr<FileAuthenticator>> Create(const config::Config& config,
                                                                   const base::Clock& clock);

  // Re-reads the password file. On error the previous users stay and the error is returned.
  absl::Status Reload();

  // In order: a throttled address → 0x8A Banned; a verified certificate identity → success;
  // no user name → the listener's allow_anonymous (else 0x87 Not authorized); a user name →
  // the password file (0x86 Bad user name or password), or, without a password file, the
  // listener's allow_anonymous.
  protocol::ReasonCode CheckPassword(const ClientInfo& client,
                                     std::optional<std::string_view> password) override;
  // "SCRAM-SHA-256", else nullptr.
  std::unique_ptr<AuthExchange> StartExchange(std::string_view method,
                                              const ClientInfo& client) override;
  bool password_check_blocks() const override;

 private:
  FileAuthenticator(const config::Config& config, const base::Clock& clock);
  std::shared_ptr<const PasswordFile> users() const;
  bool AnonymousAllowed(const std::string& listener) const;

  const std::string path_;
  absl::flat_hash_map<std::string, bool> anonymous_;  // listener name → allow_anonymous
  const std::shared_ptr<FailedAuthThrottle> throttle_;
  const std::string scram_secret_;  // keys the fake SCRAM salts of unknown users
  std::string dummy_hash_;          // checked for unknown users, so they take as long
  mutable absl::Mutex mutex_;
  std::shared_ptr<const PasswordFile> users_ ABSL_GUARDED_BY(mutex_);
};

class AclAuthorizer final : public Authorizer {
 public:
  static absl::StatusOr<std::shared_ptr<AclAuthorizer>> Create(const config::AuthConfig& config);

  absl::Status Reload();

  bool CanPublish(const ClientInfo& client, std::string_view topic) override;
  bool CanSubscribe(const ClientInfo& client, std::string_view filter) override;

 private:
  explicit AclAuthorizer(const config::AuthConfig& config);
  std::shared_ptr<const Acl> acl() const;

  const std::string path_;
  const bool default_allow_;
  mutable absl::Mutex mutex_;
  std::shared_ptr<const Acl> acl_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace simq::auth

#include "broker/auth/file_auth.h"

#include "broker/auth/crypto.h"
#include "broker/auth/password_hash.h"
#include "broker/auth/scram.h"
#include "broker/base/log.h"

namespace simq::auth {
namespace {

using protocol::ReasonCode;

// An exchange refused from the start (a throttled address).
class RefusedExchange final : public AuthExchange {
 public:
  explicit RefusedExchange(ReasonCode code) : code_(code) {}
  AuthStep Next(std::string_view) override {
    AuthStep step;
    step.code = code_;
    return step;
  }

 private:
  ReasonCode code_;
};

}  // namespace

FileAuthenticator::FileAuthenticator(const config::Config& config, const base::Clock& clock)
    : path_(config.auth.password_file),
      throttle_(std::make_shared<FailedAuthThrottle>(
          FailedAuthThrottle::Settings{config.auth.failed_auth_limit,
                                       std::chrono::seconds(config.auth.failed_auth_window_seconds),
                                       std::chrono::seconds(config.auth.failed_auth_block_seconds)},
          clock)),
      scram_secret_(RandomBytes(32)) {
  for (const config::ListenerConfig& l : config.listeners) anonymous_[l.name] = l.allow_anonymous;
}

absl::StatusOr<std::shared_ptr<FileAuthenticator>> FileAuthenticator::Create(
    const config::Config& config, const base::Clock& clock) {
  std::shared_ptr<FileAuthenticator> a(new FileAuthenticator(config, clock));
  if (!a->path_.empty()) {
    if (absl::Status s = a->Reload(); !s.ok()) return s;
    absl::StatusOr<std::string> dummy = HashPassword(RandomBytes(16), HashScheme::kArgon2id);
    if (!dummy.ok()) return dummy.status();
    a->dummy_hash_ = std::move(*dummy);
  }
  return a;
}

absl::Status FileAuthenticator::Reload() {
  if (path_.empty()) return absl::OkStatus();
  absl::StatusOr<PasswordFile> file = PasswordFile::Load(path_);
  if (!file.ok()) return file.status();
  SIMQ_LOG_INFO("password file {}: {} users", path_, file->size());
  auto snapshot = std::make_shared<const PasswordFile>(std::move(*file));
  absl::MutexLock lock(&mutex_);
  users_ = std::move(snapshot);
  return absl::OkStatus();
}

std::shared_ptr<const PasswordFile> FileAuthenticator::users() const {
  absl::ReaderMutexLock lock(&mutex_);
  return users_;
}

bool FileAuthenticator::password_check_blocks() const {
  return !path_.empty();
}

bool FileAuthenticator::AnonymousAllowed(const std::string& listener) const {
  auto it = anonymous_.find(listener);
  return it != anonymous_.end() && it->second;
}

ReasonCode FileAuthenticator::CheckPassword(const ClientInfo& client,
                                            std::optional<std::string_view> password) {
  const std::string_view address = AddressWithoutPort(client.remote_address);
  if (throttle_->Blocked(address)) return ReasonCode::kBanned;
  if (client.certificate_authenticated) return ReasonCode::kSuccess;
  const std::shared_ptr<const PasswordFile> users = this->users();
  if (!client.username || !users) {
    return AnonymousAllowed(client.listener) ? ReasonCode::kSuccess : ReasonCode::kNotAuthorized;
  }
  const PasswordEntry* entry = users->Find(*client.username);
  const bool known = entry != nullptr && !entry->password_hash.empty();
  // An unknown user costs a hash too, so that timing does not tell which users exist.
  const bool match =
      VerifyPassword(password.value_or(""), known ? entry->password_hash : dummy_hash_);
  if (known && password && match) {
    throttle_->RecordSuccess(address);
    return ReasonCode::kSuccess;
  }
  throttle_->RecordFailure(address);
  return ReasonCode::kBadUserNameOrPassword;
}

std::unique_ptr<AuthExchange> FileAuthenticator::StartExchange(std::string_view method,
                                                               const ClientInfo& client) {
  if (method != kScramSha256) return nullptr;
  const std::string address(AddressWithoutPort(client.remote_address));
  if (throttle_->Blocked(address)) return std::make_unique<RefusedExchange>(ReasonCode::kBanned);
  std::shared_ptr<const PasswordFile> users = this->users();
  auto lookup = [users](std::string_view user) -> std::optional<ScramCredentials> {
    const PasswordEntry* entry = users ? users->Find(user) : nullptr;
    if (entry == nullptr || !entry->scram) return std::nullopt;
    return entry->scram;
  };
  auto outcome = [throttle = throttle_, address](bool success) {
    success ? throttle->RecordSuccess(address) : throttle->RecordFailure(address);
  };
  return std::make_unique<ScramServerExchange>(std::move(lookup), client.username, scram_secret_,
                                               std::move(outcome));
}

// ---------------------------------------------------------------------------------------------

AclAuthorizer::AclAuthorizer(const config::AuthConfig& config)
    : path_(config.acl_file), default_allow_(config.acl_default == config::AclPolicy::kAllow) {}

absl::StatusOr<std::shared_ptr<AclAuthorizer>> AclAuthorizer::Create(
    const config::AuthConfig& config) {
  std::shared_ptr<AclAuthorizer> a(new AclAuthorizer(config));
  if (absl::Status s = a->Reload(); !s.ok()) return s;
  return a;
}

absl::Status AclAuthorizer::Reload() {
  absl::StatusOr<Acl> acl = Acl::Load(path_, default_allow_);
  if (!acl.ok()) return acl.status();
  SIMQ_LOG_INFO("ACL file {} loaded", path_);
  auto snapshot = std::make_shared<const Acl>(std::move(*acl));
  absl::MutexLock lock(&mutex_);
  acl_ = std::move(snapshot);
  return absl::OkStatus();
}

std::shared_ptr<const Acl> AclAuthorizer::acl() const {
  absl::ReaderMutexLock lock(&mutex_);
  return acl_;
}

bool AclAuthorizer::CanPublish(const ClientInfo& client, std::string_view topic) {
  return acl()->CanPublish(client, topic);
}

bool AclAuthorizer::CanSubscribe(const ClientInfo& client, std::string_view filter) {
  return acl()->CanSubscribe(client, filter);
}

}  // namespace simq::auth

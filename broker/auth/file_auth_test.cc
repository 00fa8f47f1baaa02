#include "broker/auth/file_auth.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "broker/auth/password_hash.h"
#include "broker/auth/scram.h"
#include "broker/testing/process.h"

namespace simq::auth {
namespace {

using protocol::ReasonCode;

std::string WriteUsers(const std::string& name, const std::string& user,
                       const std::string& password) {
  PasswordFile file;
  PasswordEntry entry;
  entry.password_hash = *HashPassword(password, HashScheme::kArgon2id);
  entry.scram = MakeScramCredentials(password, "0123456789abcdef", 4096);
  file.Set(user, entry);
  const std::string path = testing::TestTempDir() + "/" + name;
  EXPECT_TRUE(file.Save(path).ok());
  return path;
}

config::Config TwoListeners(std::string password_file) {
  config::Config c;
  c.listeners.clear();
  config::ListenerConfig open;
  open.name = "open";
  open.allow_anonymous = true;
  config::ListenerConfig closed;
  closed.name = "closed";
  closed.allow_anonymous = false;
  c.listeners.push_back(open);
  c.listeners.push_back(closed);
  c.auth.password_file = std::move(password_file);
  c.auth.failed_auth_limit = 3;
  return c;
}

ClientInfo Info(std::string listener, std::optional<std::string> user,
                std::string address = "192.0.2.1:5000") {
  ClientInfo c;
  c.client_id = "c";
  c.listener = std::move(listener);
  c.username = std::move(user);
  c.remote_address = std::move(address);
  return c;
}

TEST(FileAuthenticatorTest, AnonymousPerListenerAndPasswords) {
  base::FakeClock clock;
  auto a = FileAuthenticator::Create(TwoListeners(WriteUsers("u1", "alice", "pw")), clock);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_TRUE((*a)->password_check_blocks());
  EXPECT_EQ((*a)->CheckPassword(Info("open", std::nullopt), std::nullopt), ReasonCode::kSuccess);
  EXPECT_EQ((*a)->CheckPassword(Info("closed", std::nullopt), std::nullopt),
            ReasonCode::kNotAuthorized);
  EXPECT_EQ((*a)->CheckPassword(Info("closed", "alice"), "pw"), ReasonCode::kSuccess);
  EXPECT_EQ((*a)->CheckPassword(Info("closed", "alice"), "nope"),
            ReasonCode::kBadUserNameOrPassword);
  EXPECT_EQ((*a)->CheckPassword(Info("closed", "alice"), std::nullopt),
            ReasonCode::kBadUserNameOrPassword);
  EXPECT_EQ((*a)->CheckPassword(Info("open", "mallory"), "pw"), ReasonCode::kBadUserNameOrPassword);
  ClientInfo cert = Info("closed", "device-7", "192.0.2.2:5000");
  cert.certificate_authenticated = true;
  EXPECT_EQ((*a)->CheckPassword(cert, std::nullopt), ReasonCode::kSuccess);
}

TEST(FileAuthenticatorTest, WithoutAPasswordFileOnlyAnonymousListenersAdmit) {
  base::FakeClock clock;
  auto a = FileAuthenticator::Create(TwoListeners(""), clock);
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE((*a)->password_check_blocks());
  EXPECT_EQ((*a)->CheckPassword(Info("open", "anyone"), "x"), ReasonCode::kSuccess);
  EXPECT_EQ((*a)->CheckPassword(Info("closed", "anyone"), "x"), ReasonCode::kNotAuthorized);
}

TEST(FileAuthenticatorTest, FailedAuthenticationsBlockTheAddress) {
  base::FakeClock clock;
  auto a = FileAuthenticator::Create(TwoListeners(WriteUsers("u2", "alice", "pw")), clock);
  ASSERT_TRUE(a.ok());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ((*a)->CheckPassword(Info("closed", "alice"), "bad"),
              ReasonCode::kBadUserNameOrPassword);
  }
  // Blocked: even the right password, and SCRAM too.
  EXPECT_EQ((*a)->CheckPassword(Info("closed", "alice"), "pw"), ReasonCode::kBanned);
  EXPECT_EQ(
      (*a)->StartExchange(kScramSha256, Info("closed", std::nullopt))->Next("n,,n=a,r=x").code,
      ReasonCode::kBanned);
  // Another address is not affected; the block ends.
  EXPECT_EQ((*a)->CheckPassword(Info("closed", "alice", "[2001:db8::1]:1"), "pw"),
            ReasonCode::kSuccess);
  clock.Advance(std::chrono::seconds(61));
  EXPECT_EQ((*a)->CheckPassword(Info("closed", "alice"), "pw"), ReasonCode::kSuccess);
}

TEST(FileAuthenticatorTest, ScramAgainstThePasswordFile) {
  base::FakeClock clock;
  auto a = FileAuthenticator::Create(TwoListeners(WriteUsers("u3", "alice", "pw")), clock);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ((*a)->StartExchange("PLAIN", Info("closed", std::nullopt)), nullptr);
  std::unique_ptr<AuthExchange> x = (*a)->StartExchange(kScramSha256, Info("closed", std::nullopt));
  ScramClient client("alice", "pw");
  AuthStep first = x->Next(client.FirstMessage());
  ASSERT_EQ(first.code, ReasonCode::kContinueAuthentication);
  AuthStep final = x->Next(*client.FinalMessage(first.data));
  ASSERT_EQ(final.code, ReasonCode::kSuccess);
  EXPECT_TRUE(client.VerifyServerFinal(final.data).ok());
  EXPECT_EQ(x->username(), "alice");
}

TEST(FileAuthenticatorTest, ReloadKeepsTheOldUsersOnError) {
  base::FakeClock clock;
  const std::string path = WriteUsers("u4", "alice", "pw");
  auto a = FileAuthenticator::Create(TwoListeners(path), clock);
  ASSERT_TRUE(a.ok());
  testing::WriteFile(path, "broken line\n");
  EXPECT_FALSE((*a)->Reload().ok());
  EXPECT_EQ((*a)->CheckPassword(Info("closed", "alice"), "pw"), ReasonCode::kSuccess);
  WriteUsers("u4", "bob", "pw2");
  EXPECT_TRUE((*a)->Reload().ok());
  EXPECT_EQ((*a)->CheckPassword(Info("closed", "bob"), "pw2"), ReasonCode::kSuccess);
  EXPECT_EQ((*a)->CheckPassword(Info("closed", "alice"), "pw"), ReasonCode::kBadUserNameOrPassword);
}

TEST(FileAuthenticatorTest, MissingFileIsAStartError) {
  base::FakeClock clock;
  auto a = FileAuthenticator::Create(TwoListeners("/nonexistent/users.txt"), clock);
  EXPECT_THAT(std::string(a.status().message()), ::testing::HasSubstr("/nonexistent/users.txt"));
}

TEST(AclAuthorizerTest, ReloadSwapsTheRules) {
  const std::string path = testing::TestTempDir() + "/acl.txt";
  testing::WriteFile(path, "readwrite a/#\n");
  config::AuthConfig c;
  c.acl_file = path;
  auto z = AclAuthorizer::Create(c);
  ASSERT_TRUE(z.ok()) << z.status();
  EXPECT_TRUE((*z)->CanPublish(Info("x", std::nullopt), "a/1"));
  EXPECT_FALSE((*z)->CanPublish(Info("x", std::nullopt), "b/1"));
  testing::WriteFile(path, "nonsense\n");
  EXPECT_FALSE((*z)->Reload().ok());
  EXPECT_TRUE((*z)->CanPublish(Info("x", std::nullopt), "a/1"));
  testing::WriteFile(path, "readwrite b/#\n");
  EXPECT_TRUE((*z)->Reload().ok());
  EXPECT_FALSE((*z)->CanPublish(Info("x", std::nullopt), "a/1"));
  EXPECT_TRUE((*z)->CanPublish(Info("x", std::nullopt), "b/1"));
}

}  // namespace
}  // namespace simq::auth

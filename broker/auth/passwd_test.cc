// //broker/auth:passwd as a user runs it, and password files written by Debian's
// mosquitto_passwd (PBKDF2-SHA512, "$7$") loading as they are.

#include <unistd.h>

#include "fmt/format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "broker/auth/password_file.h"
#include "broker/auth/password_hash.h"
#include "broker/auth/scram.h"
#include "broker/testing/process.h"

namespace simq::auth {
namespace {

using namespace std::chrono_literals;

std::string PasswdBinary() {
  return "broker/auth/passwd";
}

// Runs a command to completion; its exit status (or -1).
int RunCommand(std::vector<std::string> argv, std::string* output = nullptr) {
  static int n = 0;
  testing::Process p(std::move(argv),
                     fmt::format("{}/passwd-run-{}.log", testing::TestTempDir(), n++));
  EXPECT_TRUE(p.ok()) << p.error();
  std::optional<int> status = p.Wait(60s);
  if (output != nullptr) *output = p.Log();
  return status.value_or(-1);
}

TEST(PasswdTest, CreatesAddsChangesAndDeletes) {
  const std::string path = testing::TestTempDir() + "/passwd-users.txt";
  ASSERT_EQ(RunCommand({PasswdBinary(), "-c", "-b", path, "alice", "one"}), 0);
  ASSERT_EQ(RunCommand({PasswdBinary(), "-b", "-H", "pbkdf2-sha512", path, "bob", "two"}), 0);
  absl::StatusOr<PasswordFile> file = PasswordFile::Load(path);
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_NE(file->Find("alice"), nullptr);
  EXPECT_THAT(file->Find("alice")->password_hash, ::testing::StartsWith("$argon2id$"));
  EXPECT_TRUE(VerifyPassword("one", file->Find("alice")->password_hash));
  EXPECT_TRUE(file->Find("alice")->scram.has_value());
  EXPECT_THAT(file->Find("bob")->password_hash, ::testing::StartsWith("$7$210000$"));
  EXPECT_TRUE(VerifyPassword("two", file->Find("bob")->password_hash));

  ASSERT_EQ(RunCommand({PasswdBinary(), "-b", path, "alice", "changed"}), 0);
  ASSERT_EQ(RunCommand({PasswdBinary(), "-D", path, "bob"}), 0);
  file = PasswordFile::Load(path);
  ASSERT_TRUE(file.ok());
  EXPECT_TRUE(VerifyPassword("changed", file->Find("alice")->password_hash));
  EXPECT_EQ(file->Find("bob"), nullptr);

  std::string output;
  EXPECT_NE(RunCommand({PasswdBinary(), "-D", path, "bob"}, &output), 0);
  EXPECT_THAT(output, ::testing::HasSubstr("no user \"bob\""));
  EXPECT_NE(RunCommand({PasswdBinary(), "-b", path + ".missing", "x", "y"}, &output), 0);
  EXPECT_THAT(output, ::testing::HasSubstr("-c creates it"));
  EXPECT_NE(RunCommand({PasswdBinary(), "-b", path, "a:b", "y"}, &output), 0);
}

TEST(PasswdTest, ReadsThePasswordTwiceFromStdin) {
  const std::string path = testing::TestTempDir() + "/passwd-stdin.txt";
  std::string output;
  ASSERT_EQ(RunCommand({"/bin/sh", "-c",
                        fmt::format("printf 'pw\\npw\\n' | {} -c {} carol", PasswdBinary(), path)},
                       &output),
            0)
      << output;
  EXPECT_TRUE(VerifyPassword("pw", PasswordFile::Load(path)->Find("carol")->password_hash));
  EXPECT_NE(RunCommand({"/bin/sh", "-c",
                        fmt::format("printf 'pw\\nother\\n' | {} {} carol", PasswdBinary(), path)},
                       &output),
            0);
  EXPECT_THAT(output, ::testing::HasSubstr("do not match"));
}

TEST(PasswdTest, LoadsFilesWrittenByMosquittoPasswd) {
  constexpr char kTool[] = "/usr/bin/mosquitto_passwd";
  ASSERT_EQ(::access(kTool, X_OK), 0)
      << kTool << " is missing: Debian package 'mosquitto'; tools/setup installs it";
  const std::string path = testing::TestTempDir() + "/mosquitto-users.txt";
  testing::WriteFile(path, "");
  std::string output;
  ASSERT_EQ(RunCommand({kTool, "-b", path, "dave", "mosquitto-pw"}, &output), 0) << output;
  absl::StatusOr<PasswordFile> file = PasswordFile::Load(path);
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_NE(file->Find("dave"), nullptr);
  EXPECT_THAT(file->Find("dave")->password_hash, ::testing::StartsWith("$7$"));
  EXPECT_TRUE(VerifyPassword("mosquitto-pw", file->Find("dave")->password_hash));
  EXPECT_FALSE(VerifyPassword("wrong", file->Find("dave")->password_hash));
}

}  // namespace
}  // namespace simq::auth

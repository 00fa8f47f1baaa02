// passwd: manages simq password files, like mosquitto_passwd.
//
//   bazel run //broker/auth:passwd -- -c users.txt alice        # create the file; prompts
//   bazel run //broker/auth:passwd -- users.txt bob              # add or change a user
//   bazel run //broker/auth:passwd -- -b users.txt carol s3cret  # password on the command line
//   bazel run //broker/auth:passwd -- -D users.txt bob           # delete a user
//
// Each user gets an argon2id hash (or PBKDF2-SHA512 with -H pbkdf2-sha512) and SCRAM-SHA-256
// credentials. The broker re-reads the file on SIGHUP.

#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <termios.h>
#include <unistd.h>

#include "broker/auth/crypto.h"
#include "broker/auth/password_file.h"
#include "broker/auth/password_hash.h"
#include "broker/auth/scram.h"

namespace {

using simq::auth::HashScheme;

constexpr char kUsage[] =
    "usage: passwd [-c] [-H argon2id|pbkdf2-sha512] [-i SCRAM_ITERATIONS] FILE USER\n"
    "       passwd [-c] [-H argon2id|pbkdf2-sha512] [-i SCRAM_ITERATIONS] -b FILE USER PASSWORD\n"
    "       passwd -D FILE USER\n"
    "\n"
    "  -c   create FILE, replacing it if it exists\n"
    "  -b   take the password from the command line (beware of shell history)\n"
    "  -D   delete USER\n"
    "  -H   password hash: argon2id (default) or pbkdf2-sha512\n"
    "  -i   SCRAM-SHA-256 iteration count (default 4096)\n";

int Fail(const std::string& message) {
  std::cerr << "passwd: " << message << "\n";
  return 1;
}

// Reads a line from the terminal without echo, or from stdin when it is not a terminal.
std::optional<std::string> ReadPassword(const char* prompt) {
  const bool tty = ::isatty(STDIN_FILENO) != 0;
  termios saved{};
  if (tty) {
    std::cerr << prompt << std::flush;
    ::tcgetattr(STDIN_FILENO, &saved);
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string line;
  const bool ok = static_cast<bool>(std::getline(std::cin, line));
  if (tty) {
    ::tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    std::cerr << "\n";
  }
  if (!ok) return std::nullopt;
  return line;
}

// A path the user typed: under `bazel run`, relative to where they typed it.
std::string UserPath(const std::string& path) {
  const char* cwd = std::getenv("BUILD_WORKING_DIRECTORY");
  if (cwd == nullptr || path.empty() || path.front() == '/') return path;
  return (std::filesystem::path(cwd) / path).string();
}

}  // namespace

int main(int argc, char** argv) {
  bool create = false, batch = false, remove = false;
  HashScheme scheme = HashScheme::kArgon2id;
  uint32_t scram_iterations = 4096;
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-c") {
      create = true;
    } else if (arg == "-b") {
      batch = true;
    } else if (arg == "-D") {
      remove = true;
    } else if (arg == "-H" && i + 1 < argc) {
      const std::string name = argv[++i];
      if (name == "argon2id") {
        scheme = HashScheme::kArgon2id;
      } else if (name == "pbkdf2-sha512") {
        scheme = HashScheme::kPbkdf2Sha512;
      } else {
        return Fail("unknown hash \"" + name + "\" (argon2id or pbkdf2-sha512)");
      }
    } else if (arg == "-i" && i + 1 < argc) {
      scram_iterations = static_cast<uint32_t>(std::strtoul(argv[++i], nullptr, 10));
      if (scram_iterations < 4096) return Fail("-i: at least 4096 (RFC 7677)");
    } else if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      return 0;
    } else if (arg.starts_with("-") && arg.size() > 1) {
      std::cerr << kUsage;
      return 2;
    } else {
      args.push_back(arg);
    }
  }
  const size_t expected = batch ? 3 : 2;
  if (args.size() != expected || (remove && (batch || create))) {
    std::cerr << kUsage;
    return 2;
  }
  const std::string path = UserPath(args[0]);
  const std::string& user = args[1];
  if (absl::Status s = simq::auth::ValidateUserName(user); !s.ok()) {
    return Fail(std::string(s.message()));
  }

  simq::auth::PasswordFile file;
  if (!create) {
    absl::StatusOr<simq::auth::PasswordFile> loaded = simq::auth::PasswordFile::Load(path);
    if (!loaded.ok()) return Fail(std::string(loaded.status().message()) + " (-c creates it)");
    file = std::move(*loaded);
  }
  if (remove) {
    if (!file.Remove(user)) return Fail("no user \"" + user + "\" in " + path);
  } else {
    std::string password;
    if (batch) {
      password = args[2];
    } else {
      std::optional<std::string> first = ReadPassword("Password: ");
      std::optional<std::string> again = ReadPassword("Reenter password: ");
      if (!first || !again) return Fail("no password given");
      if (*first != *again) return Fail("the passwords do not match");
      password = *first;
    }
    if (password.empty()) return Fail("the password is empty");
    absl::StatusOr<std::string> hash = simq::auth::HashPassword(password, scheme);
    if (!hash.ok()) return Fail(std::string(hash.status().message()));
    simq::auth::PasswordEntry entry;
    entry.password_hash = std::move(*hash);
    entry.scram =
        simq::auth::MakeScramCredentials(password, simq::auth::RandomBytes(16), scram_iterations);
    file.Set(user, std::move(entry));
  }
  if (absl::Status s = file.Save(path); !s.ok()) return Fail(std::string(s.message()));
  return 0;
}

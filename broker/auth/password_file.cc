#include "broker/auth/password_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <unistd.h>

#include "fmt/format.h"

#include "broker/auth/password_hash.h"

namespace simq::auth {

absl::Status ValidateUserName(std::string_view user) {
  if (user.empty()) return absl::InvalidArgumentError("the user name is empty");
  if (user.find_first_of(":\r\n") != std::string_view::npos) {
    return absl::InvalidArgumentError("a user name may not contain ':' or a line break");
  }
  if (user.front() == '#') return absl::InvalidArgumentError("a user name may not start with '#'");
  return absl::OkStatus();
}

absl::StatusOr<PasswordFile> PasswordFile::Parse(std::string_view text, std::string_view source) {
  PasswordFile file;
  size_t line_number = 0;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    auto fail = [&](std::string_view problem) {
      return absl::InvalidArgumentError(fmt::format("{}:{}: {}", source, line_number, problem));
    };
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return fail("expected <user>:<password hash>[:<SCRAM credentials>]");
    }
    const std::string user(line.substr(0, colon));
    if (file.users_.contains(user)) return fail(fmt::format("user \"{}\" is listed twice", user));
    PasswordEntry entry;
    std::string_view rest = line.substr(colon + 1);
    while (true) {
      const size_t next = rest.find(':');
      const std::string_view credential = rest.substr(0, next);
      if (credential.starts_with("$scram-sha-256$")) {
        absl::StatusOr<ScramCredentials> scram = DecodeScramCredentials(credential);
        if (!scram.ok()) return fail(std::string(scram.status().message()));
        entry.scram = std::move(*scram);
      } else {
        if (absl::Status s = CheckHashFormat(credential); !s.ok())
          return fail(std::string(s.message()));
        if (!entry.password_hash.empty()) return fail("more than one password hash");
        entry.password_hash = std::string(credential);
      }
      if (next == std::string_view::npos) break;
      rest = rest.substr(next + 1);
    }
    file.Set(user, std::move(entry));
  }
  return file;
}

absl::StatusOr<PasswordFile> PasswordFile::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(fmt::format("cannot read {}: {}", path, std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return Parse(text.str(), path);
}

const PasswordEntry* PasswordFile::Find(std::string_view user) const {
  auto it = users_.find(std::string(user));
  return it == users_.end() ? nullptr : &it->second;
}

void PasswordFile::Set(const std::string& user, PasswordEntry entry) {
  auto [it, inserted] = users_.insert_or_assign(user, std::move(entry));
  if (inserted) order_.push_back(user);
}

bool PasswordFile::Remove(std::string_view user) {
  auto it = users_.find(std::string(user));
  if (it == users_.end()) return false;
  users_.erase(it);
  std::erase(order_, std::string(user));
  return true;
}

std::string PasswordFile::Format() const {
  std::string text;
  for (const std::string& user : order_) {
    const PasswordEntry& e = users_.at(user);
    text += user;
    if (!e.password_hash.empty()) text += ":" + e.password_hash;
    if (e.scram) text += ":" + EncodeScramCredentials(*e.scram);
    text += '\n';
  }
  return text;
}

absl::Status PasswordFile::Save(const std::string& path) const {
  const std::string temporary = path + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::PermissionDeniedError(
        fmt::format("cannot write {}: {}", temporary, std::strerror(errno)));
  }
  const std::string text = Format();
  size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = errno;
      ::close(fd);
      return absl::UnavailableError(
          fmt::format("cannot write {}: {}", temporary, std::strerror(error)));
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    return absl::UnavailableError(
        fmt::format("cannot write {}: {}", temporary, std::strerror(errno)));
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    return absl::UnavailableError(fmt::format("cannot replace {}: {}", path, std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace simq::auth

// A child process for tests: a third-party server or client, or the broker binary itself.
//
//   Process mosquitto({"/usr/sbin/mosquitto", "-c", conf}, log_path);
//   ASSERT_TRUE(mosquitto.ok()) << mosquitto.error();
//   ...
//   mosquitto.Kill(SIGKILL);   // or let the destructor send SIGTERM and reap it
//
// stdout and stderr go to `log_path`, which failing tests print (Log()).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace simq::testing {

class Process {
 public:
  // Starts argv[0] (searched in PATH if it has no '/') with `env` added to the environment.
  Process(std::vector<std::string> argv, std::string log_path, std::vector<std::string> env = {});
  ~Process();

  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  bool ok() const { return pid_ > 0; }
  const std::string& error() const { return error_; }
  pid_t pid() const { return pid_; }

  // Sends `signal`; does not wait.
  void Signal(int signal);
  // Sends `signal` and reaps the process, escalating to SIGKILL after `grace`.
  void Kill(int signal, std::chrono::milliseconds grace = std::chrono::seconds(5));
  // Waits for the process to exit by itself; its exit status, or nullopt on timeout.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  bool running();

  // The process's captured output so far.
  std::string Log() const;
  const std::string& log_path() const { return log_path_; }

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string log_path_;
  std::string error_;
};

// The test's scratch directory ($TEST_TMPDIR under Bazel), created if needed.
std::string TestTempDir();

// Writes `content` to `path`; aborts the test on failure.
void WriteFile(const std::string& path, const std::string& content);

}  // namespace simq::testing

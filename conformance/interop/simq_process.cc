#include "conformance/interop/simq_process.h"

#include <atomic>
#include <cstdlib>
#include <filesystem>

#include <signal.h>
#include <unistd.h>

#include "fmt/format.h"
#include "gtest/gtest.h"

#include "broker/testing/ports.h"

namespace simq::interop {

std::string RunfilesPathFromEnv(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    ADD_FAILURE() << name << " is not set: run this test with `bazel test`";
    return "";
  }
  std::error_code ec;
  std::filesystem::path path = std::filesystem::absolute(value, ec);
  if (ec || !std::filesystem::exists(path)) {
    ADD_FAILURE() << name << "=" << value << " does not exist in the runfiles";
    return "";
  }
  return path.string();
}

std::string CacheDir() {
  auto env = [](const char* name) -> std::string {
    const char* v = std::getenv(name);
    return v != nullptr ? v : "";
  };
  if (std::string dir = env("SIMQ_CACHE_DIR"); !dir.empty()) return dir;
  if (std::string xdg = env("XDG_CACHE_HOME"); !xdg.empty()) return xdg + "/simq";
  return env("HOME") + "/.cache/simq";
}

SimqProcess::~SimqProcess() {
  Stop();
}

bool SimqProcess::Start() {
  const std::string binary = RunfilesPathFromEnv("SIMQ_BROKER_BINARY");
  const std::string config = RunfilesPathFromEnv("SIMQ_BROKER_CONFIG");
  if (binary.empty() || config.empty()) {
    error_ = "the broker binary or its configuration is missing from the runfiles";
    return false;
  }
  static std::atomic<int> instance{0};
  const int id = instance++;
  const std::string dir = testing::TestTempDir();
  // A port picked free can be taken by someone else before the broker binds it: retry.
  for (int attempt = 0; attempt < 3; ++attempt) {
    port_ = testing::PickFreePort();
    const std::string name = fmt::format("simq-{}-{}", id, attempt);
    const std::string data_dir = fmt::format("{}/{}-data", dir, name);
    std::filesystem::create_directories(data_dir);
    process_ = std::make_unique<testing::Process>(
        std::vector<std::string>{binary, "--config", config, "--listen",
                                 fmt::format("tcp://127.0.0.1:{}", port_), "--data-dir", data_dir,
                                 "--log-level", "debug"},
        fmt::format("{}/{}.log", dir, name));
    if (!process_->ok()) {
      error_ = process_->error();
      return false;
    }
    if (testing::WaitForPort(port_, std::chrono::seconds(15)) && process_->running()) {
      started_ = true;
      return true;
    }
    process_->Kill(SIGKILL);
  }
  error_ = "the simq broker did not start listening; its log:\n" + process_->Log();
  return false;
}

std::optional<int> SimqProcess::Stop() {
  if (!started_) return std::nullopt;
  process_->Kill(SIGTERM, std::chrono::seconds(10));  // no-op if it already exited
  return process_->Wait(std::chrono::milliseconds(0));
}

std::string SimqProcess::address() const {
  return fmt::format("127.0.0.1:{}", port_);
}

std::string SimqProcess::Log() const {
  return process_ ? process_->Log() : "";
}

}  // namespace simq::interop

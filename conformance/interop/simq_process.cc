#include "conformance/interop/simq_process.h"

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

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
  binary_ = RunfilesPathFromEnv("SIMQ_BROKER_BINARY");
  config_ = RunfilesPathFromEnv("SIMQ_BROKER_CONFIG");
  if (binary_.empty() || config_.empty()) {
    error_ = "the broker binary or its configuration is missing from the runfiles";
    return false;
  }
  static std::atomic<int> instance{0};
  const int id = instance++;
  const std::string dir = testing::TestTempDir();
  // A port picked free can be taken by someone else before the broker binds it: retry.
  for (int attempt = 0; attempt < 3; ++attempt) {
    port_ = testing::PickFreePort();
    for (Listener& listener : listeners_) {
      do {
        listener.port = testing::PickFreePort();
      } while (listener.port == port_);
    }
    name_ = fmt::format("simq-{}-{}", id, attempt);
    data_dir_ = fmt::format("{}/{}-data", dir, name_);
    std::filesystem::create_directories(data_dir_);
    if (Launch(fmt::format("{}/{}.log", dir, name_))) return true;
    if (!process_->ok()) return false;
    process_->Kill(SIGKILL);
  }
  error_ = "the simq broker did not start listening; its log:\n" + process_->Log();
  return false;
}

bool SimqProcess::StartAgain() {
  if (binary_.empty() || !process_ || process_->running()) {
    error_ = "StartAgain() needs a successful Start() and a Stop() first";
    return false;
  }
  started_ = false;
  ++runs_;
  if (Launch(fmt::format("{}/{}-run-{}.log", testing::TestTempDir(), name_, runs_))) return true;
  if (process_->ok()) process_->Kill(SIGKILL);
  error_ =
      fmt::format("the simq broker did not listen again on port {} after a restart; its log:\n{}",
                  port_, process_->Log());
  return false;
}

void SimqProcess::AddListener(std::string type, std::string options) {
  listeners_.push_back(Listener{std::move(type), std::move(options)});
}

uint16_t SimqProcess::listener_port(const std::string& type) const {
  for (const Listener& listener : listeners_) {
    if (listener.type == type) return listener.port;
  }
  return 0;
}

std::string SimqProcess::WriteConfig() const {
  std::string toml = fmt::format(
      "# Written by conformance/interop/simq_process.cc for one test run.\n"
      "[[listeners]]\ntype = \"tcp\"\nbind = \"127.0.0.1\"\nport = {}\n",
      port_);
  for (const Listener& listener : listeners_) {
    toml += fmt::format("\n[[listeners]]\ntype = \"{}\"\nbind = \"127.0.0.1\"\nport = {}\n{}",
                        listener.type, listener.port, listener.options);
  }
  const std::string path = fmt::format("{}/{}.toml", testing::TestTempDir(), name_);
  testing::WriteFile(path, toml);
  return path;
}

bool SimqProcess::Launch(const std::string& log) {
  std::vector<std::string> argv = {binary_};
  if (listeners_.empty()) {
    argv.insert(argv.end(),
                {"--config", config_, "--listen", fmt::format("tcp://127.0.0.1:{}", port_)});
  } else {
    argv.insert(argv.end(), {"--config", WriteConfig()});
  }
  argv.insert(argv.end(), {"--data-dir", data_dir_, "--log-level", "debug"});
  process_ = std::make_unique<testing::Process>(argv, log);
  if (!process_->ok()) {
    error_ = process_->error();
    return false;
  }
  auto listening = [this](uint16_t port) {
    return testing::WaitForPort(port, std::chrono::seconds(15)) && process_->running();
  };
  if (!listening(port_)) return false;
  for (const Listener& listener : listeners_) {
    if (!listening(listener.port)) return false;
  }
  started_ = true;
  return true;
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

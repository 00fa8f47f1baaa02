#include "broker/testing/mosquitto.h"

#include <atomic>

#include <signal.h>
#include <unistd.h>

#include "fmt/format.h"

#include "broker/testing/ports.h"

namespace simq::testing {
namespace {

constexpr char kMosquitto[] = "/usr/sbin/mosquitto";

}  // namespace

MosquittoServer::MosquittoServer(std::string extra_config)
    : extra_config_(std::move(extra_config)) {}

MosquittoServer::~MosquittoServer() {
  Stop();
}

bool MosquittoServer::Start() {
  if (::access(kMosquitto, X_OK) != 0) {
    error_ = "mosquitto is not installed (Debian package 'mosquitto'; tools/setup installs it)";
    return false;
  }
  static std::atomic<int> instance{0};
  const int id = instance++;
  for (int attempt = 0; attempt < 3; ++attempt) {
    port_ = PickFreePort();
    std::string dir = TestTempDir();
    std::string conf = fmt::format("{}/mosquitto-{}-{}.conf", dir, id, attempt);
    WriteFile(conf, fmt::format("listener {} 127.0.0.1\n"
                                "allow_anonymous true\n"
                                "persistence false\n"
                                "user root\n"
                                "log_dest stderr\n"
                                "log_type error\n"
                                "log_type warning\n"
                                "{}\n",
                                port_, extra_config_));
    process_ = std::make_unique<Process>(std::vector<std::string>{kMosquitto, "-c", conf},
                                         fmt::format("{}/mosquitto-{}-{}.log", dir, id, attempt));
    if (!process_->ok()) {
      error_ = process_->error();
      return false;
    }
    if (WaitForPort(port_, std::chrono::seconds(10))) return true;
    process_->Kill(SIGKILL);
  }
  error_ = "mosquitto did not start: " + process_->Log();
  return false;
}

void MosquittoServer::Stop() {
  if (process_) process_->Kill(SIGTERM);
}

}  // namespace simq::testing
